#include "dg_conv_winograd.h"

#include <stdatomic.h>
#include <string.h>

#include "dg_gemm.h"
#include "dg_op_util.h"

#define LOCAL 64
#define ELEMS 36 // 6x6 transformed elements per tile
// The GEMMs' N is the tile count: below MIN_TILES their workgroups (32 columns each) run mostly idle and
// the extra dispatches and the transforms' memory traffic cost more than the 4x fewer multiplies save
// (measured on lavapipe, docs/performance.md: the default UNet's 64-channel convs at 16x32, 64 tiles per
// CFG pair, took 1.27 ms against the direct kernel's 1.05). Below MIN_CIN input channels the output
// transform (per output channel and tile, whatever Cin) outweighs the GEMM: 3x3 4->320 at 64x64 took
// 6.4 ms against 4.0.
#define MIN_TILES 128
#define MIN_CIN 16

typedef struct weight_push {
  uint32_t cout, cin, w_off, u_off;
} weight_push;

// The transforms' vec4s move through the bindings' addresses (compute-shaders/dg_vec4_address.glsl).
typedef struct input_push {
  uint32_t xa[2], va[2];
  uint32_t c, h, w, th, tw4, groups, x_off, v_off;
} input_push;

typedef struct output_push {
  uint32_t ma[2], ya[2], ra[2];
  uint32_t cout, ho, wo, th, tw, tw4, groups, m_off, y_off, bias_off, r_off;
} output_push;

static dg_status run(dg_stream *s, const char *shader, const char *label, uint32_t flags, const dg_binding *b, int nb,
                     const void *push, uint32_t push_size, int64_t items) {
  const dg_device *d = dg_stream_device(s);
  uint32_t spec[2] = {LOCAL, flags}, gx, gy;
  dg_kernel *k;
  DG_TRY(dg_op_kernel(s, shader, DG_F32, spec, 2, &k));
  dg_grid_1d(d, (uint64_t)(items + LOCAL - 1) / LOCAL, &gx, &gy);
  return dg_stream_dispatch(s, k, b, nb, push, push_size, gx, gy, 1, label);
}

static dg_tensor temp(dg_range r, int64_t a, int64_t b) {
  return (dg_tensor){.data = r, .dtype = DG_F32, .ndim = 3, .shape = {ELEMS, a, b}};
}

dg_status dg_winograd_conv3x3(dg_stream *s, const dg_tensor *x, const dg_tensor *w, const dg_tensor *bias,
                              const dg_tensor *residual, dg_tensor *y, bool *done) {
  static atomic_int off_env = -1;
  *done = false;
  const dg_device *d = dg_stream_device(s);
  const dg_device_info *info = dg_device_get_info(d);
  int o = x->ndim - 3;
  int64_t N = o ? x->shape[0] : 1, Cin = x->shape[o], H = x->shape[o + 1], W = x->shape[o + 2], Cout = w->shape[0];
  int64_t th = (H + 3) / 4, tw = (W + 3) / 4, tw4 = (tw + 3) / 4 * 4, t4 = N * th * tw4, lim = dg_window_elems(d, x);
  if (x->dtype != DG_F32 || Cin % 4 || Cin < MIN_CIN || W % 4 || N * th * tw < MIN_TILES || strcmp(info->type, "cpu") ||
      info->subgroup_size != 8 || !info->buffer_address || dg_op_env_flag(&off_env, "DIRIGENT_CONV_NO_WINOGRAD"))
    return DG_OK;
  if (dg_tensor_numel(x) > lim || dg_tensor_numel(y) > dg_window_elems(d, y) || ELEMS * Cout * Cin > lim ||
      ELEMS * Cin * t4 > lim || ELEMS * Cout * t4 > lim)
    return DG_OK;
  input_push ip = {.c = (uint32_t)Cin, .h = (uint32_t)H, .w = (uint32_t)W, .th = (uint32_t)th, .tw4 = (uint32_t)tw4,
                   .groups = (uint32_t)(t4 / 4)};
  output_push op = {.cout = (uint32_t)Cout, .ho = (uint32_t)H, .wo = (uint32_t)W, .th = (uint32_t)th,
                    .tw = (uint32_t)tw, .tw4 = (uint32_t)tw4, .groups = (uint32_t)(t4 / 4)};
  dg_binding ib[2], ob[4];
  ib[0] = dg_window(d, x, 0, dg_tensor_numel(x), false, &ip.x_off);
  ob[1] = dg_window(d, y, 0, dg_tensor_numel(y), true, &op.y_off);
  ob[3] = residual ? dg_window(d, residual, 0, dg_tensor_numel(y), false, &op.r_off) : ob[1];
  if (ip.x_off % 4 || op.y_off % 4 || op.r_off % 4) return DG_OK;

  // The temporaries come from the stream's workspace, which keeps its memory: on a device whose memory budget
  // is tight (the tiled VAE decode's case) they would take what the model needs, so the direct kernel it is.
  uint64_t f = sizeof(float), bytes[3] = {ELEMS * Cout * Cin * f, ELEMS * Cin * t4 * f, ELEMS * Cout * t4 * f};
  if (4 * (bytes[0] + bytes[1] + bytes[2]) > dg_device_memory_budget(d)) return DG_OK;
  dg_range r[3];
  DG_TRY(dg_stream_workspace(s, 3, bytes, r));
  dg_tensor u = temp(r[0], Cout, Cin), v = temp(r[1], Cin, t4), m = temp(r[2], Cout, t4);
  *done = true;

  weight_push wp = {(uint32_t)Cout, (uint32_t)Cin, 0, 0};
  dg_binding wb[2] = {dg_window(d, w, 0, dg_tensor_numel(w), false, &wp.w_off),
                      dg_window(d, &u, 0, dg_tensor_numel(&u), true, &wp.u_off)};
  DG_TRY(run(s, "winograd_weight", "conv2d winograd weights", 0, wb, 2, &wp, sizeof wp, Cout * Cin));

  ib[1] = dg_window(d, &v, 0, dg_tensor_numel(&v), true, &ip.v_off); // workspace ranges start 256-aligned
  ip.x_off /= 4;
  ip.v_off /= 4;
  dg_address_words(dg_range_address(ib[0].range), ip.xa);
  dg_address_words(dg_range_address(ib[1].range), ip.va);
  DG_TRY(run(s, "winograd_input", "conv2d winograd input", 0, ib, 2, &ip, sizeof ip, Cin * t4 / 4));

  // m[e] = u[e] v[e] for the 36 elements in one dispatch: A [Cout, Cin] row-major (the shared-row path), B
  // [Cin, tiles] through its address (uniform-B bands would take a dispatch per element).
  dg_gemm_desc g = {.label = "conv2d winograd gemm",
                    .batch = ELEMS,
                    .M = Cout,
                    .N = t4,
                    .K = Cin,
                    .a = &u,
                    .b = &v,
                    .c = &m,
                    .a_sz = Cout * Cin,
                    .a_sm = Cin,
                    .a_sk = 1,
                    .b_sz = Cin * t4,
                    .b_sk = t4,
                    .b_sn = 1,
                    .c_sz = Cout * t4,
                    .c_sm = t4,
                    .whole_batch = true};
  DG_TRY(dg_gemm(s, &g));

  ob[0] = dg_window(d, &m, 0, dg_tensor_numel(&m), false, &op.m_off);
  ob[2] = bias ? dg_window(d, bias, 0, Cout, false, &op.bias_off) : ob[0];
  op.m_off /= 4;
  op.y_off /= 4;
  op.r_off /= 4;
  dg_address_words(dg_range_address(ob[0].range), op.ma);
  dg_address_words(dg_range_address(ob[1].range), op.ya);
  dg_address_words(dg_range_address(ob[3].range), op.ra);
  return run(s, "winograd_output", "conv2d winograd output", (bias ? 1u : 0u) | (residual ? 4u : 0u), ob, 4, &op,
             sizeof op, Cout * t4 / 4);
}
