#include "dg_gemm.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "dg_op_util.h"

// Tile shape of compute-shaders/matmul.comp (see there): 8 lanes per workgroup as LM x LN, each
// lane TM x TN outputs. Measured on lavapipe (4096x320x320, per-core CPU time): 8x8 3-4.5 GFLOP/s,
// 16x16 4.9-5.5, 16x8 2.8-4.6, 12x12 4.1, 4x4 3.1. 16x16 is faster but its JIT compile is so slow
// that the tests (a dozen flag variants per dtype) time out, hence 8x8.
#define LANES 8
#define TM 8
#define TN 8
#define LN 4
// With COOP (rows shared through subgroup broadcasts, all LANES lanes along N): 16 rows x 8 columns
// per lane. Measured on lavapipe before the loads went through buffer addresses (4096x320x320, per-core
// CPU time): 16x4 17.7 GFLOP/s, 16x8 16.8, 24x4 17.9, 8x8 10.9; without COOP 8x8 5.4-6.6. With them
// (2026-12-07, idle 2-vCPU Zen 5, `dirigent-bench matmul`, GFLOP/s for 4096x320x320 / 1024^3 / linear
// 4096x320->1280): 16x4 60.8-65.4 / 55.9-57.8 / 52.0-53.4, 16x8 67.2-68.1 / 63.5-64.9 / 66.4-66.6,
// 24x8 70.7 / 65.7 / 68.4, 24x4 67.8 / 60.2 / 57.5, 16x12 59.1 / 63.3 / 66.6, 8x8 54.8 / 55.6 / 54.4,
// 8x4 48.0 / 46.0 / 42.2, 32x8 43.2 / 45.5 / 47.1, 16x16 39.7 / 51.1 / 33.4: cheaper loads leave the
// arithmetic per load to gain. 24x8 wastes more rows on the UNet's short token counts.
#define CTM 16
#define CTN 8

static atomic_uint_fast64_t n_dispatches, n_coop, n_uniform_b, n_address, n_geglu;

dg_gemm_counts dg_gemm_get_counts(void) {
  return (dg_gemm_counts){atomic_load(&n_dispatches), atomic_load(&n_coop), atomic_load(&n_uniform_b),
                          atomic_load(&n_address), atomic_load(&n_geglu)};
}

typedef struct push {
  uint32_t M, N, K;
  uint32_t a_off, a_sm, a_sk, a_sz;
  uint32_t b_off, b_sk, b_sn, b_sz;
  uint32_t c_off, c_sm, c_sz;
  uint32_t bias_off;
  uint32_t r_off; // GEGLU: the gate window's offset
  uint32_t gate_bias;
} push;

// matmul_bda.comp: the same push constants after the addresses of the A, B and gate bindings.
typedef struct push_bda {
  uint32_t aa[2], ba[2], ga[2];
  push p;
} push_bda;

static atomic_int no_address_env = -1, no_ubo_env = -1; // environment switches, read once

static int64_t span3(int64_t n1, int64_t s1, int64_t n2, int64_t s2, int64_t n3, int64_t s3) {
  return (n1 - 1) * s1 + (n2 - 1) * s2 + (n3 - 1) * s3 + 1;
}

// Largest window (in elements) each operand may use.
typedef struct limits {
  int64_t a, b, c, bias, r;
} limits;

static bool fits(const dg_gemm_desc *g, const limits *L, int64_t zb, int64_t mb, int64_t nb, int64_t kb) {
  if (span3(zb, g->a_sz, mb, g->a_sm, kb, g->a_sk) > L->a) return false;
  if (span3(zb, g->b_sz, kb, g->b_sk, nb, g->b_sn) > L->b) return false;
  if (span3(zb, g->c_sz, mb, g->c_sm, nb, 1) > L->c) return false;
  if (g->bias && (g->bias_mode == 1 ? nb + g->gate_n : mb) > L->bias) return false; // GEGLU: x and gate bias
  if (g->residual && span3(zb, g->c_sz, mb, g->c_sm, nb, 1) > L->r) return false;
  return true;
}

// Band sizes below the full extent are multiples of 4, so vec4 windows stay aligned.
static int64_t shrink(int64_t v) { return v <= 4 ? v - 1 : (v / 2 + 3) / 4 * 4; }

dg_status dg_gemm(dg_stream *s, const dg_gemm_desc *g) {
  const dg_device *d = dg_stream_device(s);
  const dg_device_info *info = dg_device_get_info(d);
  if (g->batch <= 0 || g->M <= 0 || g->N <= 0) return DG_OK;
  bool geglu = g->gate_n > 0;
  if (geglu && (g->accumulate || g->residual || (g->bias && g->bias_mode != 1)))
    return dg_fail(DG_ERR_ARG, "%s: the GEGLU epilogue takes no accumulation, residual or row bias", g->label);
  limits L = {dg_window_elems(d, g->a), dg_window_elems(d, g->b), dg_window_elems(d, g->c),
              g->bias ? dg_window_elems(d, g->bias) : 1, g->residual ? dg_window_elems(d, g->residual) : 1};
  if (L.r > UINT32_MAX) L.r = UINT32_MAX;
  if (L.a > UINT32_MAX) L.a = UINT32_MAX;
  if (L.b > UINT32_MAX) L.b = UINT32_MAX;
  if (L.c > UINT32_MAX) L.c = UINT32_MAX;
  dg_dtype dt = g->c->dtype;
  bool cpu8 = !strcmp(info->type, "cpu") && info->subgroup_size == LANES;
  bool no_address = dg_op_env_flag(&no_address_env, "DIRIGENT_GEMM_NO_ADDRESS"); // A/B timing of matmul_bda.comp
  // B through the uniform binding (f32 on CPU devices with vec4 loads of B, see matmul.comp): B's window
  // must fit max_uniform_bytes with K whole, so N is cut into bands of whole workgroups (LANES x CTN
  // columns). Bands of B need no accumulation passes, so this costs only more dispatches.
  int64_t K = g->K, zb = 0, mb = 0, nb = 0, kb = K;
  bool ub_bands = false;
  if (cpu8 && dt == DG_F32 && !(g->whole_batch && g->batch > 1) && !dg_op_env_flag(&no_ubo_env, "DIRIGENT_GEMM_NO_UBO")) {
    uint64_t align = info->min_uniform_offset_alignment > info->min_storage_offset_alignment
                         ? info->min_uniform_offset_alignment
                         : info->min_storage_offset_alignment;
    int64_t ubl = info->max_uniform_bytes > align ? (int64_t)((info->max_uniform_bytes - align) / 4) : 0;
    if (ubl > L.b) ubl = L.b;
    bool bt = g->b_sk == 1 && g->b_sn != 1;
    bool bvec = g->b_sz % 4 == 0 && (bt ? g->b_sn % 4 == 0 && K % 4 == 0 : g->b_sn == 1 && g->b_sk % 4 == 0);
    const int64_t step = LANES * (geglu ? CTN / 2 : CTN); // a workgroup's output columns
    // The widest band of whole workgroups whose B window fits the uniform range (all of N if it does).
    nb = g->N < step || span3(1, g->b_sz, K, g->b_sk, g->N, g->b_sn) <= ubl ? g->N : g->N / step * step;
    while (bvec && nb > 0 && span3(1, g->b_sz, K, g->b_sk, nb, g->b_sn) > ubl)
      nb = nb > step ? nb - step : 0;
    // More bands mean more dispatches (tens of microseconds each on lavapipe) and A read again per band:
    // worth it for whole-N windows or bands of at least 4M multiply-adds.
    bool worth = nb == g->N || (double)g->M * (double)nb * (double)K >= 4194304.0;
    if (bvec && nb > 0 && worth) {
      limits Lu = L;
      Lu.b = ubl;
      for (mb = g->M; mb > 0 && !ub_bands; mb = ub_bands ? mb : shrink(mb))
        if (fits(g, &Lu, 1, mb, nb, kb)) ub_bands = true;
    }
    if (ub_bands) {
      L.b = ubl;
      zb = 1;
      if (nb % 4) ub_bands = false; // a last band N < step that is not a multiple of 4: plain loads
    }
  }
  // Band sizes: keep K whole if possible (no accumulation passes), then N, then M, then batch.
  // GEGLU needs K whole (its epilogue cannot run on a partial sum).
  for (kb = K; kb > 0 && !zb && (!geglu || kb == K); kb = zb ? kb : shrink(kb))
    for (nb = g->N; nb > 0 && !zb; nb = zb ? nb : shrink(nb))
      for (mb = g->M; mb > 0 && !zb; mb = zb ? mb : shrink(mb))
        if (fits(g, &L, 1, mb, nb, kb)) zb = 1;
  if (!zb) return dg_fail(DG_ERR_ARG, "%s: operands too large for the binding limit", g->label);
  if (mb == g->M)
    for (int64_t z = g->batch < 65535 ? g->batch : 65535; z > 1; z = (z + 1) / 2)
      if (fits(g, &L, z, mb, nb, kb)) {
        zb = z;
        break;
      }

  for (int64_t k0 = 0; k0 < K; k0 += kb) {
    int64_t kn = K - k0 < kb ? K - k0 : kb;
    bool accum = g->accumulate || k0 > 0;
    bool with_bias = g->bias && k0 == 0, with_res = g->residual && k0 == 0;
    for (int64_t z0 = 0; z0 < g->batch; z0 += zb) {
      int64_t zn = g->batch - z0 < zb ? g->batch - z0 : zb;
      for (int64_t n0 = 0; n0 < g->N; n0 += nb) {
        int64_t nn = g->N - n0 < nb ? g->N - n0 : nb;
        for (int64_t m0 = 0; m0 < g->M; m0 += mb) {
          int64_t mn = g->M - m0 < mb ? g->M - m0 : mb;
          uint32_t ao, bo, co, biaso = 0, ro = 0;
          dg_binding bind[DG_UNIFORM_BINDING + 1];
          bind[0] = dg_window(d, g->a, g->a_off + z0 * g->a_sz + m0 * g->a_sm + k0 * g->a_sk,
                              span3(zn, g->a_sz, mn, g->a_sm, kn, g->a_sk), false, &ao);
          bind[1] = bind[0];
          bind[2] = dg_window(d, g->b, g->b_off + z0 * g->b_sz + k0 * g->b_sk + n0 * g->b_sn,
                              span3(zn, g->b_sz, kn, g->b_sk, nn, g->b_sn), false, &bo);
          bind[3] = bind[2];
          // GEGLU: the gate columns' window of B, the same shape as the x columns'.
          uint32_t go = 0;
          bind[6] = geglu ? dg_window(d, g->b, g->b_off + z0 * g->b_sz + k0 * g->b_sk + (n0 + g->gate_n) * g->b_sn,
                                      span3(zn, g->b_sz, kn, g->b_sk, nn, g->b_sn), false, &go)
                          : bind[0];
          bind[5] = dg_window(d, g->c, g->c_off + z0 * g->c_sz + m0 * g->c_sm + n0,
                              span3(zn, g->c_sz, mn, g->c_sm, nn, 1), true, &co);
          if (with_bias)
            bind[4] = dg_window(d, g->bias, g->bias_off + (g->bias_mode == 1 ? n0 : m0),
                                g->bias_mode == 1 ? nn + g->gate_n : mn, false, &biaso);
          else
            bind[4] = bind[0];
          // The residual: a window over the same elements as C's (C itself when they alias).
          if (!geglu)
            bind[6] = with_res ? dg_window(d, g->residual, g->c_off + z0 * g->c_sz + m0 * g->c_sm + n0,
                                           span3(zn, g->c_sz, mn, g->c_sm, nn, 1), false, &ro)
                               : bind[0];
          bind[7] = bind[6];
          // Operand layouts and whether vec4 loads are possible (4-aligned offsets and strides).
          bool at = g->a_sm == 1 && g->a_sk != 1, bt = g->b_sk == 1 && g->b_sn != 1;
          bool av = ao % 4 == 0 && g->a_sz % 4 == 0 &&
                    (at ? g->a_sk % 4 == 0 && mn % 4 == 0 : g->a_sk == 1 && g->a_sm % 4 == 0 && kn % 4 == 0);
          bool bv = bo % 4 == 0 && g->b_sz % 4 == 0 &&
                    (bt ? g->b_sn % 4 == 0 && kn % 4 == 0 : g->b_sn == 1 && g->b_sk % 4 == 0 && nn % 4 == 0);
          if (geglu) bv = bv && bt && go % 4 == 0; // vec4s along n would mix x and gate columns in a lane
          uint32_t flags = (uint32_t)at | (uint32_t)bt << 1 | (uint32_t)av << 2 | (uint32_t)bv << 3 |
                           (with_bias ? (uint32_t)g->bias_mode : 0) << 4 | (uint32_t)accum << 6 |
                           (uint32_t)with_res << 8 | (uint32_t)geglu << 10;
          // Rows shared through subgroup broadcasts (see matmul.comp) need a subgroup of exactly
          // LANES lanes: CPU devices have a fixed one.
          bool coop = !at && av && cpu8;
          bool ub =
              ub_bands && coop && bv && nn % 4 == 0 && bind[2].range.offset % info->min_uniform_offset_alignment == 0;
          // The f32 shader declares the uniform binding, so it is always bound: B's window (clipped to the
          // uniform range and aligned as it needs; only read, so it adds no hazard of its own).
          if (dt == DG_F32) {
            dg_binding u = bind[2];
            uint64_t ua = info->min_uniform_offset_alignment, end = u.range.offset + u.range.size;
            u.range.offset = u.range.offset / ua * ua;
            u.range.size = end - u.range.offset;
            if (u.range.size > info->max_uniform_bytes) u.range.size = info->max_uniform_bytes;
            bind[DG_UNIFORM_BINDING] = u;
          }
          int64_t tm = coop ? CTM : TM, tn = coop ? CTN : TN, ln = coop ? LANES : LN;
          flags |= (uint32_t)coop << 7 | (uint32_t)ub << 9;
          // With buffer device addresses the shared-row path reads A, and B where it is not read as a
          // uniform, through them (matmul_bda.comp); it steps by vec4s from the bindings' starts.
          uint64_t v4 = 4 * dg_dtype_size(dt), aa = 0, ba = 0, ga = 0;
          if (coop && info->buffer_address && !no_address) {
            aa = dg_range_address(bind[0].range);
            ba = dg_range_address(bind[2].range);
            if (geglu) ga = dg_range_address(bind[6].range);
          }
          bool bda = aa && aa % v4 == 0 && (!bv || ub || (ba && ba % v4 == 0)) && (!geglu || !bv || (ga && ga % v4 == 0));
          uint32_t spec[5] = {LANES, (uint32_t)tm, (uint32_t)tn, flags, (uint32_t)ln};
          dg_kernel *pipe;
          DG_TRY(dg_op_kernel(s, bda ? "matmul_bda" : "matmul", dt, spec, 5, &pipe));
          int64_t lm = LANES / ln;
          int64_t tno = geglu ? tn / 2 : tn; // output columns per lane
          uint32_t groups_n = (uint32_t)((nn + ln * tno - 1) / (ln * tno));
          uint64_t groups = (uint64_t)groups_n * (uint64_t)((mn + lm * tm - 1) / (lm * tm));
          push pc = {(uint32_t)mn,
                     (uint32_t)nn,
                     (uint32_t)kn,
                     ao,
                     (uint32_t)g->a_sm,
                     (uint32_t)g->a_sk,
                     (uint32_t)g->a_sz,
                     bo,
                     (uint32_t)g->b_sk,
                     (uint32_t)g->b_sn,
                     (uint32_t)g->b_sz,
                     co,
                     (uint32_t)g->c_sm,
                     (uint32_t)g->c_sz,
                     biaso,
                     geglu ? go : ro,
                     (uint32_t)g->gate_n};
          uint32_t gx, gy;
          dg_grid_1d(d, groups, &gx, &gy);
          uint32_t nb = dt == DG_F32 ? DG_UNIFORM_BINDING + 1 : 8;
          if (bda) {
            push_bda pb = {.p = pc};
            dg_address_words(aa, pb.aa);
            dg_address_words(ba, pb.ba);
            dg_address_words(ga, pb.ga);
            DG_TRY(dg_stream_dispatch(s, pipe, bind, nb, &pb, sizeof pb, gx, gy, (uint32_t)zn, g->label));
          } else
            DG_TRY(dg_stream_dispatch(s, pipe, bind, nb, &pc, sizeof pc, gx, gy, (uint32_t)zn, g->label));
          atomic_fetch_add(&n_dispatches, 1);
          if (coop) atomic_fetch_add(&n_coop, 1);
          if (ub) atomic_fetch_add(&n_uniform_b, 1);
          if (bda) atomic_fetch_add(&n_address, 1);
          if (geglu) atomic_fetch_add(&n_geglu, 1);
        }
      }
    }
  }
  return DG_OK;
}
