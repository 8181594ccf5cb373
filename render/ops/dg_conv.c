#include "dg_conv.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "dg_conv_winograd.h"
#include "dg_gemm.h"
#include "dg_op_util.h"

// Tile of compute-shaders/conv2d.comp: 8 lanes, each TM output channels x TN output pixels; 8 x 8,
// and 16 x 8 for the 3x3 path with shared weights. Measured on lavapipe (3x3 320->320 at 64x64,
// per-core CPU time): 8x8 16.8 GFLOP/s, 16x4 19.8, 16x8 23.0, 32x4 22.6 (16x8 and 32x4 compile in
// about 5 s more).
#define LANES 8

typedef struct push {
  uint32_t H, W, Ho, Wo;
  uint32_t cin, cout;
  uint32_t x_off, x_sz, x_row0;
  uint32_t y_off, y_sz, oy0;
  uint32_t rows;
  uint32_t w_off, w_sco;
  uint32_t bias_off;
  uint32_t sh, sw, ph, pw;
  uint32_t groups_n;
  uint32_t KH, KW;
  uint32_t flags;
  uint32_t r_off;
} push;

// conv2d_bda.comp: the same push constants after the addresses of the x and w bindings.
typedef struct push_bda {
  uint32_t xa[2], wa[2];
  push p;
} push_bda;

static int64_t shrink(int64_t v) { return v <= 4 ? v - 1 : (v / 2 + 3) / 4 * 4; }

typedef struct conv_shape {
  int64_t N, Cin, H, W, Cout, KH, KW, Ho, Wo, G, cig, cog;
  int sh, sw, ph, pw, pb, pr;
} conv_shape;

// Input rows [r0, r1) that output rows [oy0, oy0 + rows) read.
static void input_rows(const conv_shape *c, int64_t oy0, int64_t rows, int64_t *r0, int64_t *r1) {
  int64_t a = oy0 * c->sh - c->ph, b = (oy0 + rows - 1) * c->sh - c->ph + c->KH;
  *r0 = a < 0 ? 0 : a;
  *r1 = b > c->H ? c->H : b;
  if (*r1 <= *r0) *r1 = *r0 + 1; // a band entirely in the padding still binds one row
}

static bool fits(const conv_shape *c, int64_t lx, int64_t lw, int64_t ly, int64_t zb, int64_t cib, int64_t cob,
                 int64_t rows) {
  // The band that reads the most input rows: one clear of the padding (the first band reads fewer).
  int64_t rin = (rows - 1) * c->sh + c->KH;
  if (rin > c->H) rin = c->H;
  if ((zb - 1) * c->Cin * c->H * c->W + (cib - 1) * c->H * c->W + rin * c->W > lx) return false;
  if ((zb - 1) * c->Cout * c->Ho * c->Wo + (cob - 1) * c->Ho * c->Wo + rows * c->Wo > ly) return false;
  if ((cob - 1) * c->cig * c->KH * c->KW + cib * c->KH * c->KW > lw) return false;
  return true;
}

static atomic_uint_fast64_t n_direct, n_shared, n_address, n_winograd;

dg_conv_counts dg_conv_get_counts(void) {
  return (dg_conv_counts){atomic_load(&n_direct), atomic_load(&n_shared), atomic_load(&n_address),
                          atomic_load(&n_winograd)};
}

static dg_status direct(dg_stream *s, const conv_shape *c, const dg_tensor *x, const dg_tensor *w,
                        const dg_tensor *bias, const dg_tensor *res, dg_tensor *y) {
  const dg_device *d = dg_stream_device(s);
  int64_t lx = dg_window_elems(d, x), lw = dg_window_elems(d, w), ly = dg_window_elems(d, y);
  if (res && dg_window_elems(d, res) < ly) ly = dg_window_elems(d, res);
  bool fast = c->KH == 3 && c->KW == 3 && c->sh == 1 && c->sw == 1 && c->ph == 1 && c->pw == 1 && !c->pb && !c->pr &&
              c->W % 4 == 0 && c->cig % 4 == 0;
  // Bands: input channels (accumulating passes), output channels, output rows; then images.
  int64_t cib = 0, cob = 0, rows = 0, zb = 0;
  for (cib = c->cig; cib > 0 && !zb; cib = zb ? cib : shrink(cib))
    for (cob = c->cog; cob > 0 && !zb; cob = zb ? cob : shrink(cob))
      for (rows = c->Ho; rows > 0 && !zb; rows = zb ? rows : (rows > 1 ? (rows + 1) / 2 : 0))
        if (fits(c, lx, lw, ly, 1, cib, cob, rows)) zb = 1;
  if (!zb) return dg_fail(DG_ERR_ARG, "conv2d: operands too large for the binding limit");
  if (fast && cib % 4) fast = false;
  if (cib == c->cig && cob == c->cog && rows == c->Ho)
    for (int64_t z = c->N < 65535 ? c->N : 65535; z > 1; z = (z + 1) / 2)
      if (fits(c, lx, lw, ly, z, cib, cob, rows)) {
        zb = z;
        break;
      }
  // Weights shared through subgroup broadcasts (see conv2d.comp) need a subgroup of exactly the
  // workgroup's LANES lanes: CPU devices have a fixed one.
  const dg_device_info *info = dg_device_get_info(d);
  bool coop = fast && !strcmp(info->type, "cpu") && info->subgroup_size == LANES;
  static atomic_int no_address_env = -1;
  bool no_address = dg_op_env_flag(&no_address_env, "DIRIGENT_CONV_NO_ADDRESS"); // A/B timing of conv2d_bda.comp
  int64_t tm = coop ? 16 : 8, tn = 8;
  int64_t tiles_x = (c->Wo + tn - 1) / tn;
  for (int64_t gi = 0; gi < c->G; gi++)
    for (int64_t c0 = 0; c0 < c->cig; c0 += cib) {
      int64_t cin = c->cig - c0 < cib ? c->cig - c0 : cib;
      bool first = c0 == 0;
      for (int64_t n0 = 0; n0 < c->N; n0 += zb) {
        int64_t zn = c->N - n0 < zb ? c->N - n0 : zb;
        for (int64_t co0 = 0; co0 < c->cog; co0 += cob) {
          int64_t cout = c->cog - co0 < cob ? c->cog - co0 : cob;
          for (int64_t oy0 = 0; oy0 < c->Ho; oy0 += rows) {
            int64_t nr = c->Ho - oy0 < rows ? c->Ho - oy0 : rows, r0, r1;
            input_rows(c, oy0, nr, &r0, &r1);
            int64_t plane = c->H * c->W, oplane = c->Ho * c->Wo;
            int64_t cog_abs = gi * c->cog + co0;
            uint32_t xo, wo, yo, bo = 0, ro = 0;
            dg_binding bind[7];
            bind[0] = dg_window(d, x, (n0 * c->Cin + gi * c->cig + c0) * plane + r0 * c->W,
                                (zn - 1) * c->Cin * plane + (cin - 1) * plane + (r1 - r0) * c->W, false, &xo);
            bind[1] = bind[0];
            bind[2] = dg_window(d, w, cog_abs * c->cig * c->KH * c->KW + c0 * c->KH * c->KW,
                                (cout - 1) * c->cig * c->KH * c->KW + cin * c->KH * c->KW, false, &wo);
            bind[3] = bind[2];
            int64_t y_first = (n0 * c->Cout + cog_abs) * oplane + oy0 * c->Wo,
                    y_count = (zn - 1) * c->Cout * oplane + (cout - 1) * oplane + nr * c->Wo;
            bind[5] = dg_window(d, y, y_first, y_count, true, &yo);
            bool with_bias = bias && first, with_res = res && first;
            bind[6] = with_res ? dg_window(d, res, y_first, y_count, false, &ro) : bind[0];
            bind[4] = with_bias ? dg_window(d, bias, cog_abs, cout, false, &bo) : bind[0];
            bool vec = fast && xo % 4 == 0 && wo % 4 == 0 && (c->Cin * plane) % 4 == 0;
            // With buffer device addresses (CPU devices) the shared-weight path reads x and w through
            // them (conv2d_bda.comp); it steps by vec4s from the bindings' starts.
            uint64_t v4 = 4 * dg_dtype_size(x->dtype), xa = 0, wa = 0;
            if (vec && coop && info->buffer_address && !no_address) {
              xa = dg_range_address(bind[0].range);
              wa = dg_range_address(bind[2].range);
            }
            bool bda = xa && wa && xa % v4 == 0 && wa % v4 == 0;
            uint32_t spec[5] = {LANES, (uint32_t)tm, (uint32_t)tn, vec ? 1u : 0u, vec && coop};
            dg_kernel *pipe;
            if (bda)
              DG_TRY(dg_op_kernel(s, "conv2d_bda", x->dtype, spec, 3, &pipe));
            else
              DG_TRY(dg_op_kernel(s, "conv2d", x->dtype, spec, 5, &pipe));
            atomic_fetch_add(&n_direct, 1);
            if (vec && coop) atomic_fetch_add(&n_shared, 1);
            if (bda) atomic_fetch_add(&n_address, 1);
            uint32_t groups_n = (uint32_t)((tiles_x * nr + LANES - 1) / LANES);
            uint64_t groups = (uint64_t)groups_n * (uint64_t)((cout + tm - 1) / tm);
            push pc = {(uint32_t)c->H,
                       (uint32_t)c->W,
                       (uint32_t)c->Ho,
                       (uint32_t)c->Wo,
                       (uint32_t)cin,
                       (uint32_t)cout,
                       xo,
                       (uint32_t)(c->Cin * plane),
                       (uint32_t)r0,
                       yo,
                       (uint32_t)(c->Cout * oplane),
                       (uint32_t)oy0,
                       (uint32_t)nr,
                       wo,
                       (uint32_t)(c->cig * c->KH * c->KW),
                       bo,
                       (uint32_t)c->sh,
                       (uint32_t)c->sw,
                       (uint32_t)c->ph,
                       (uint32_t)c->pw,
                       groups_n,
                       (uint32_t)c->KH,
                       (uint32_t)c->KW,
                       (uint32_t)with_bias | (first ? 0u : 2u) | (with_res ? 4u : 0u),
                       ro};
            uint32_t gx, gy;
            dg_grid_1d(d, groups, &gx, &gy);
            if (bda) {
              push_bda pb = {.p = pc};
              dg_address_words(xa, pb.xa);
              dg_address_words(wa, pb.wa);
              DG_TRY(dg_stream_dispatch(s, pipe, bind, 7, &pb, sizeof pb, gx, gy, (uint32_t)zn, "conv2d"));
            } else
              DG_TRY(dg_stream_dispatch(s, pipe, bind, 7, &pc, sizeof pc, gx, gy, (uint32_t)zn, "conv2d"));
          }
        }
      }
    }
  return DG_OK;
}

dg_status dg_conv2d(dg_stream *s, const dg_tensor *x, const dg_tensor *w, const dg_tensor *bias,
                    const dg_conv2d_params *params, dg_tensor *y) {
  return dg_conv2d_ex(s, x, w, bias, params, NULL, y);
}

dg_status dg_conv2d_ex(dg_stream *s, const dg_tensor *x, const dg_tensor *w, const dg_tensor *bias,
                       const dg_conv2d_params *params, const dg_tensor *residual, dg_tensor *y) {
  char sx[96], sw[96], sy[96];
  dg_conv2d_params pr = params ? *params : (dg_conv2d_params){0};
  DG_TRY(dg_check_same_dtype("conv2d", x, w));
  DG_TRY(dg_check_same_dtype("conv2d", x, y));
  if (bias) DG_TRY(dg_check_same_dtype("conv2d", x, bias));
  conv_shape c = {.sh = pr.stride_h ? pr.stride_h : 1,
                  .sw = pr.stride_w ? pr.stride_w : 1,
                  .ph = pr.pad_h,
                  .pw = pr.pad_w,
                  .pb = pr.pad_b,
                  .pr = pr.pad_r,
                  .G = pr.groups ? pr.groups : 1};
  if (c.sh < 1 || c.sw < 1 || c.ph < 0 || c.pw < 0 || c.pb < 0 || c.pr < 0 || c.G < 1)
    return dg_fail(DG_ERR_ARG, "conv2d: bad params (stride %d x %d, padding %d x %d, groups %d)", pr.stride_h,
                   pr.stride_w, pr.pad_h, pr.pad_w, pr.groups);
  if ((x->ndim != 4 && x->ndim != 3) || w->ndim != 4)
    return dg_fail(DG_ERR_ARG, "conv2d: x must be [N, C, H, W] (got %s), weight [Cout, Cin/groups, KH, KW] (got %s)",
                   dg_shape_str(x, sx, sizeof sx), dg_shape_str(w, sw, sizeof sw));
  int o = x->ndim - 3;
  c.N = o ? x->shape[0] : 1;
  c.Cin = x->shape[o];
  c.H = x->shape[o + 1];
  c.W = x->shape[o + 2];
  c.Cout = w->shape[0];
  c.KH = w->shape[2];
  c.KW = w->shape[3];
  if (c.Cin % c.G || c.Cout % c.G || w->shape[1] != c.Cin / c.G)
    return dg_fail(DG_ERR_ARG, "conv2d: x %s and weight %s do not match with %lld groups",
                   dg_shape_str(x, sx, sizeof sx), dg_shape_str(w, sw, sizeof sw), (long long)c.G);
  c.cig = c.Cin / c.G;
  c.cog = c.Cout / c.G;
  c.Ho = (c.H + 2 * c.ph + c.pb - c.KH) / c.sh + 1;
  c.Wo = (c.W + 2 * c.pw + c.pr - c.KW) / c.sw + 1;
  if (c.H + 2 * c.ph + c.pb < c.KH || c.W + 2 * c.pw + c.pr < c.KW || c.KH > 15 || c.KW > 15 || c.N < 1 || c.cig < 1 || c.cog < 1)
    return dg_fail(DG_ERR_ARG, "conv2d: kernel %lldx%lld does not fit input %s with padding %d x %d (kernels up to 15)",
                   (long long)c.KH, (long long)c.KW, dg_shape_str(x, sx, sizeof sx), c.ph, c.pw);
  int64_t want[4] = {c.N, c.Cout, c.Ho, c.Wo};
  bool ok = y->ndim == x->ndim;
  for (int i = 0; ok && i < y->ndim; i++)
    ok = y->shape[i] == want[i + (4 - y->ndim)];
  if (!ok)
    return dg_fail(DG_ERR_ARG, "conv2d: y has shape %s, expected [%lld, %lld, %lld, %lld]",
                   dg_shape_str(y, sy, sizeof sy), (long long)c.N, (long long)c.Cout, (long long)c.Ho, (long long)c.Wo);
  if (bias && dg_tensor_numel(bias) != c.Cout)
    return dg_fail(DG_ERR_ARG, "conv2d: bias has %lld elements, expected %lld", (long long)dg_tensor_numel(bias),
                   (long long)c.Cout);
  if (residual) {
    DG_TRY(dg_check_same_dtype("conv2d", x, residual));
    if (dg_tensor_numel(residual) != dg_tensor_numel(y))
      return dg_fail(DG_ERR_ARG, "conv2d: residual has %lld elements, y %lld", (long long)dg_tensor_numel(residual),
                     (long long)dg_tensor_numel(y));
  }
  if (c.KH == 1 && c.KW == 1 && c.sh == 1 && c.sw == 1 && c.ph == 0 && c.pw == 0 && c.pb == 0 && c.pr == 0) {
    int64_t hw = c.H * c.W;
    for (int64_t g = 0; g < c.G; g++) { // y[n, g] = W[g] x[n, g] per group, a matmul over pixels
      dg_gemm_desc gd = {.label = "conv2d",
                         .batch = c.N,
                         .M = c.cog,
                         .N = hw,
                         .K = c.cig,
                         .a = w,
                         .b = x,
                         .c = y,
                         .bias = bias,
                         .bias_mode = 2,
                         .bias_off = g * c.cog,
                         .a_off = g * c.cog * c.cig,
                         .a_sz = 0,
                         .a_sm = c.cig,
                         .a_sk = 1,
                         .b_off = g * c.cig * hw,
                         .b_sz = c.Cin * hw,
                         .b_sk = hw,
                         .b_sn = 1,
                         .c_off = g * c.cog * hw,
                         .c_sz = c.Cout * hw,
                         .c_sm = hw,
                         .residual = residual};
      DG_TRY(dg_gemm(s, &gd));
    }
    return DG_OK;
  }
  if (c.KH == 3 && c.KW == 3 && c.sh == 1 && c.sw == 1 && c.ph == 1 && c.pw == 1 && !c.pb && !c.pr && c.G == 1) {
    bool done;
    DG_TRY(dg_winograd_conv3x3(s, x, w, bias, residual, y, &done));
    if (done) {
      atomic_fetch_add(&n_winograd, 1);
      return DG_OK;
    }
  }
  return direct(s, &c, x, w, bias, residual, y);
}

dg_status dg_conv_temporal(dg_stream *s, const dg_tensor *x, const dg_tensor *w, const dg_tensor *bias, int pad,
                           const dg_tensor *residual, dg_tensor *y) {
  char sx[96], sw[96], sy[96];
  DG_TRY(dg_check_same_dtype("conv_temporal", x, w));
  DG_TRY(dg_check_same_dtype("conv_temporal", x, y));
  if (bias) DG_TRY(dg_check_same_dtype("conv_temporal", x, bias));
  if (x->ndim != 5 || w->ndim != 3)
    return dg_fail(DG_ERR_ARG, "conv_temporal: x must be [N, C, F, H, W] (got %s), weight [k, Cout, Cin] (got %s)",
                   dg_shape_str(x, sx, sizeof sx), dg_shape_str(w, sw, sizeof sw));
  int64_t N = x->shape[0], Cin = x->shape[1], F = x->shape[2], hw = x->shape[3] * x->shape[4];
  int64_t Cout = w->shape[1], k = w->shape[0];
  if (w->shape[2] != Cin)
    return dg_fail(DG_ERR_ARG, "conv_temporal: weight %s does not match x %s", dg_shape_str(w, sw, sizeof sw),
                   dg_shape_str(x, sx, sizeof sx));
  if (pad < 0 || 2 * pad > k - 1)
    return dg_fail(DG_ERR_ARG, "conv_temporal: padding %d unsupported for kernel %lld (need 0 <= 2 pad <= k - 1)", pad,
                   (long long)k);
  int64_t Fo = F + 2 * pad - k + 1;
  if (Fo < 1)
    return dg_fail(DG_ERR_ARG, "conv_temporal: %lld frames too few for kernel %lld", (long long)F, (long long)k);
  int64_t want[5] = {N, Cout, Fo, x->shape[3], x->shape[4]};
  bool ok = y->ndim == 5;
  for (int i = 0; ok && i < 5; i++)
    ok = y->shape[i] == want[i];
  if (!ok)
    return dg_fail(DG_ERR_ARG, "conv_temporal: y has shape %s, expected [%lld, %lld, %lld, %lld, %lld]",
                   dg_shape_str(y, sy, sizeof sy), (long long)N, (long long)Cout, (long long)Fo, (long long)x->shape[3],
                   (long long)x->shape[4]);
  if (bias && dg_tensor_numel(bias) != Cout)
    return dg_fail(DG_ERR_ARG, "conv_temporal: bias has %lld elements, expected %lld", (long long)dg_tensor_numel(bias),
                   (long long)Cout);
  if (residual) {
    DG_TRY(dg_check_same_dtype("conv_temporal", x, residual));
    if (dg_tensor_numel(residual) != dg_tensor_numel(y))
      return dg_fail(DG_ERR_ARG, "conv_temporal: residual has %lld elements, y %lld",
                     (long long)dg_tensor_numel(residual), (long long)dg_tensor_numel(y));
  }
  // y[n, :, f] = sum_t W[:, :, t] x[n, :, f + t - pad]: one matmul per tap, batched over the output
  // frames whose input frame exists. Tap `pad` reads frame f for every f < Fo <= F, so it goes first,
  // writes every output (with the bias and the residual) and the other taps accumulate. Tap-major
  // weights give each tap a contiguous [Cout, Cin] matrix: the GEMM's fast, vectorised paths (PyTorch's
  // layout would read A with a stride of k along K, which only its plain path can).
  for (int64_t n = 0; n < N; n++)
    for (int64_t i = 0; i < k; i++) {
      int64_t t = i == 0 ? pad : i <= pad ? i - 1 : i;
      int64_t f0 = pad - t > 0 ? pad - t : 0, f1 = F + pad - t < Fo ? F + pad - t : Fo;
      if (f1 <= f0) continue;
      dg_gemm_desc g = {.label = "conv_temporal",
                        .batch = f1 - f0,
                        .M = Cout,
                        .N = hw,
                        .K = Cin,
                        .a = w,
                        .b = x,
                        .c = y,
                        .bias = i == 0 ? bias : NULL,
                        .bias_mode = 2,
                        .a_off = t * Cout * Cin,
                        .a_sz = 0,
                        .a_sm = Cin,
                        .a_sk = 1,
                        .b_off = (n * Cin * F + f0 + t - pad) * hw,
                        .b_sz = hw,
                        .b_sk = F * hw,
                        .b_sn = 1,
                        .c_off = (n * Cout * Fo + f0) * hw,
                        .c_sz = hw,
                        .c_sm = Fo * hw,
                        .residual = i == 0 ? residual : NULL,
                        .accumulate = i > 0};
      DG_TRY(dg_gemm(s, &g));
    }
  return DG_OK;
}

void dg_conv_temporal_taps(const float *w, int64_t cout, int64_t cin, int64_t k, float *taps) {
  for (int64_t o = 0; o < cout; o++)
    for (int64_t i = 0; i < cin; i++)
      for (int64_t t = 0; t < k; t++)
        taps[(t * cout + o) * cin + i] = w[(o * cin + i) * k + t];
}
