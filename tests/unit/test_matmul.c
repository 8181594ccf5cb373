// Batched matmul (all transpose combinations, broadcast batches) and linear against the CPU
// reference, both dtypes, random odd shapes; with a small DIRIGENT_MAX_BINDING the larger shapes
// need splitting over batch, rows, columns and k.
#include <stdlib.h>
#include <string.h>

#include "dg_elementwise.h"
#include "dg_gemm.h"
#include "dg_matmul.h"
#include "dg_ref.h"
#include "dg_test.h"

static void check_matmul(dg_dtype dt, int64_t za, int64_t zb, int64_t M, int64_t N, int64_t K, bool ta, bool tb) {
  int64_t batch = za > zb ? za : zb;
  int64_t sa[3] = {za, ta ? K : M, ta ? M : K}, sb[3] = {zb, tb ? N : K, tb ? K : N}, so[3] = {batch, M, N};
  float *a, *b;
  dg_tensor A = dg_test_tensor(dt, 3, sa, -1, 1, &a), B = dg_test_tensor(dt, 3, sb, -1, 1, &b);
  dg_tensor O = dg_test_poisoned(dt, 3, so);
  if (dg_test_ok(dg_matmul(T.stream, &A, ta, &B, tb, &O), "matmul")) {
    float *got = dg_test_read(&O), *want = malloc((size_t)(batch * M * N) * sizeof *want);
    dg_ref_matmul(a, ta, za, b, tb, zb, M, N, K, want);
    char what[128];
    snprintf(what, sizeof what, "matmul %s z=%lld/%lld M=%lld N=%lld K=%lld ta=%d tb=%d", dg_dtype_name(dt),
             (long long)za, (long long)zb, (long long)M, (long long)N, (long long)K, ta, tb);
    dg_test_close(what, got, want, batch * M * N, dg_test_tolerance(dt));
    free(got);
    free(want);
  }
  free(a);
  free(b);
}

// res: 0 none, 1 a residual tensor added in the same dispatch (dg_linear_ex), 2 the residual is y itself.
static void check_linear_res(dg_dtype dt, int64_t d0, int64_t d1, int64_t in, int64_t out, bool with_bias, int res) {
  int64_t sx[3] = {d0, d1, in}, sw[2] = {out, in}, sbias[1] = {out}, sy[3] = {d0, d1, out};
  float *x, *w, *bias = NULL;
  dg_tensor X = dg_test_tensor(dt, 3, sx, -1, 1, &x), W = dg_test_tensor(dt, 2, sw, -1, 1, &w);
  dg_tensor Bias = with_bias ? dg_test_tensor(dt, 1, sbias, -1, 1, &bias) : (dg_tensor){0};
  float *rv = NULL;
  dg_tensor R = res ? dg_test_tensor(dt, 3, sy, -1, 1, &rv) : (dg_tensor){0};
  dg_tensor Y = res == 2 ? R : dg_test_poisoned(dt, 3, sy);
  if (dg_test_ok(dg_linear_ex(T.stream, &X, &W, with_bias ? &Bias : NULL, res ? &R : NULL, &Y), "linear")) {
    float *got = dg_test_read(&Y), *want = malloc((size_t)(d0 * d1 * out) * sizeof *want);
    dg_ref_linear(x, w, bias, d0 * d1, in, out, want);
    for (int64_t i = 0; rv && i < d0 * d1 * out; i++) want[i] += rv[i];
    char what[128];
    snprintf(what, sizeof what, "linear %s rows=%lldx%lld in=%lld out=%lld bias=%d res=%d", dg_dtype_name(dt),
             (long long)d0, (long long)d1, (long long)in, (long long)out, with_bias, res);
    dg_test_close(what, got, want, d0 * d1 * out, dg_test_tolerance(dt));
    free(got);
    free(want);
  }
  free(x);
  free(w);
  free(bias);
  free(rv);
}

// The feed-forward's GEGLU(x W^T + bias) both ways against the reference: fused (dg_linear_geglu, the GEGLU
// epilogue) and as the unfused path runs it (dg_linear into h [.., 2F], then dg_geglu).
static void check_linear_geglu(dg_dtype dt, int64_t d0, int64_t d1, int64_t in, int64_t f, bool with_bias) {
  int64_t sx[3] = {d0, d1, in}, sw[2] = {2 * f, in}, sbias[1] = {2 * f}, sh[3] = {d0, d1, 2 * f}, sy[3] = {d0, d1, f};
  int64_t rows = d0 * d1;
  float *x, *w, *bias = NULL;
  dg_tensor X = dg_test_tensor(dt, 3, sx, -1, 1, &x), W = dg_test_tensor(dt, 2, sw, -1, 1, &w);
  dg_tensor Bias = with_bias ? dg_test_tensor(dt, 1, sbias, -1, 1, &bias) : (dg_tensor){0};
  float *h = malloc((size_t)(rows * 2 * f) * sizeof *h), *want = malloc((size_t)(rows * f) * sizeof *want);
  dg_ref_linear(x, w, bias, rows, in, 2 * f, h);
  dg_ref_geglu(h, rows, f, want);
  for (int fused = 1; fused >= 0; fused--) {
    dg_tensor Y = dg_test_poisoned(dt, 3, sy), H = fused ? (dg_tensor){0} : dg_test_poisoned(dt, 3, sh);
    dg_gemm_counts c0 = dg_gemm_get_counts();
    dg_status st = fused ? dg_linear_geglu(T.stream, &X, &W, with_bias ? &Bias : NULL, &Y)
                         : dg_linear(T.stream, &X, &W, with_bias ? &Bias : NULL, &H);
    if (!fused && st == DG_OK) st = dg_geglu(T.stream, &H, &Y);
    if (!dg_test_ok(st, fused ? "linear_geglu" : "linear + geglu")) continue;
    dg_gemm_counts c1 = dg_gemm_get_counts();
    char what[160];
    snprintf(what, sizeof what, "%s %s rows=%lldx%lld in=%lld f=%lld bias=%d", fused ? "linear_geglu" : "linear + geglu",
             dg_dtype_name(dt), (long long)d0, (long long)d1, (long long)in, (long long)f, with_bias);
    dg_check((c1.geglu - c0.geglu == c1.dispatches - c0.dispatches) == fused, "%s: %llu of %llu dispatches with GEGLU",
             what, (unsigned long long)(c1.geglu - c0.geglu), (unsigned long long)(c1.dispatches - c0.dispatches));
    float *got = dg_test_read(&Y);
    dg_test_close(what, got, want, rows * f, dg_test_tolerance(dt));
    free(got);
  }
  free(x);
  free(w);
  free(bias);
  free(h);
  free(want);
}

// S stacked projections of one input (the attention's q, k, v) both ways against the reference: one
// dg_linear_stacked (one dispatch unless the binding limit splits it) and S dg_linears on the weights' views.
static void check_linear_stacked(dg_dtype dt, int64_t S, int64_t d0, int64_t d1, int64_t in, int64_t out) {
  int64_t sx[3] = {d0, d1, in}, sw[3] = {S, out, in}, sy[4] = {S, d0, d1, out}, rows = d0 * d1;
  float *x, *w, *want = malloc((size_t)(S * rows * out) * sizeof *want);
  dg_tensor X = dg_test_tensor(dt, 3, sx, -1, 1, &x), W = dg_test_tensor(dt, 3, sw, -1, 1, &w);
  for (int64_t i = 0; i < S; i++) dg_ref_linear(x, w + i * out * in, NULL, rows, in, out, want + i * rows * out);
  for (int fused = 1; fused >= 0; fused--) {
    dg_tensor Y = dg_test_poisoned(dt, 4, sy);
    dg_gemm_counts c0 = dg_gemm_get_counts();
    dg_status st = DG_OK;
    if (fused) st = dg_linear_stacked(T.stream, &X, &W, &Y);
    for (int64_t i = 0; !fused && i < S && st == DG_OK; i++) {
      dg_tensor wi, yi;
      int64_t s2[2] = {out, in}, s3[3] = {d0, d1, out};
      st = dg_tensor_items(&W, i, 1, &wi);
      if (st == DG_OK) st = dg_tensor_reshape(&wi, 2, s2, &wi);
      if (st == DG_OK) st = dg_tensor_items(&Y, i, 1, &yi);
      if (st == DG_OK) st = dg_tensor_reshape(&yi, 3, s3, &yi);
      if (st == DG_OK) st = dg_linear(T.stream, &X, &wi, NULL, &yi);
    }
    char what[160];
    snprintf(what, sizeof what, "%s %s S=%lld rows=%lldx%lld in=%lld out=%lld", fused ? "linear_stacked" : "S linears",
             dg_dtype_name(dt), (long long)S, (long long)d0, (long long)d1, (long long)in, (long long)out);
    if (!dg_test_ok(st, what)) continue;
    uint64_t n = dg_gemm_get_counts().dispatches - c0.dispatches;
    if (fused && !getenv("DIRIGENT_MAX_BINDING")) dg_check(n == 1, "%s: %llu dispatches (1 wanted)", what, (unsigned long long)n);
    float *got = dg_test_read(&Y);
    dg_test_close(what, got, want, S * rows * out, dg_test_tolerance(dt));
    free(got);
  }
  free(x);
  free(w);
  free(want);
}

static void check_linear(dg_dtype dt, int64_t d0, int64_t d1, int64_t in, int64_t out, bool with_bias) {
  check_linear_res(dt, d0, d1, in, out, with_bias, 0);
}

int main(void) {
  dg_test_init("test_matmul");
  for (int d = 0; d < 2; d++) {
    dg_dtype dt = d ? DG_F16 : DG_F32;
    for (int t = 0; t < 4; t++) {
      bool ta = t & 1, tb = t & 2;
      // random odd shapes, and multiples of 4 (the vectorised paths)
      check_matmul(dt, dg_test_int(1, 3), 1, dg_test_int(1, 37), dg_test_int(1, 41), dg_test_int(1, 43), ta, tb);
      int64_t z = dg_test_int(2, 3);
      check_matmul(dt, z, z, 4 * dg_test_int(1, 12), 4 * dg_test_int(1, 12), 4 * dg_test_int(1, 12), ta, tb);
      check_matmul(dt, 1, z, dg_test_int(5, 40), 4 * dg_test_int(1, 10), dg_test_int(5, 40), ta, tb);
      // larger than a 64 KiB binding: A alone, then B alone
      check_matmul(dt, 2, 2, 4 * dg_test_int(50, 60), dg_test_int(20, 30), 4 * dg_test_int(20, 25) + 1, ta, tb);
      check_matmul(dt, 1, 1, dg_test_int(9, 20), 4 * dg_test_int(35, 40), 4 * dg_test_int(30, 32), ta, tb);
    }
    check_linear(dt, dg_test_int(1, 3), dg_test_int(1, 20), dg_test_int(1, 40), dg_test_int(1, 40), true);
    check_linear(dt, 2, dg_test_int(1, 20), 4 * dg_test_int(1, 20), dg_test_int(1, 70), false);
    check_linear(dt, 2, dg_test_int(60, 80), 4 * dg_test_int(30, 40), dg_test_int(60, 70), true); // splits
    // f32 on CPU devices: B through the uniform binding in bands of N (several bands, a short last one;
    // bands of at least 4M multiply-adds)
    check_linear(dt, 1, dg_test_int(420, 460), 320, dg_test_int(100, 140), true);
    // fused residual epilogue (a separate residual, y itself), incl. splits over k (added once)
    for (int res = 1; res <= 2; res++) {
      check_linear_res(dt, dg_test_int(1, 3), dg_test_int(1, 20), dg_test_int(1, 40), dg_test_int(1, 40), true, res);
      check_linear_res(dt, 2, dg_test_int(1, 20), 4 * dg_test_int(1, 20), dg_test_int(1, 70), false, res);
      check_linear_res(dt, 2, dg_test_int(60, 80), 4 * dg_test_int(30, 40), dg_test_int(60, 70), true, res);
    }
    // GEGLU in the linear's epilogue: odd sizes (scalar loads), vec4 sizes, a split (the gate's own windows),
    // and f32 uniform-B bands of a UNet feed-forward's shape (tokens x 64 -> 2 x 256)
    check_linear_geglu(dt, dg_test_int(1, 3), dg_test_int(1, 20), dg_test_int(1, 40), dg_test_int(1, 40), true);
    check_linear_geglu(dt, 2, dg_test_int(1, 20), 4 * dg_test_int(1, 20), 4 * dg_test_int(1, 20), false);
    check_linear_geglu(dt, 2, dg_test_int(60, 80), 4 * dg_test_int(30, 40), dg_test_int(60, 70), true);
    check_linear_geglu(dt, 1, dg_test_int(420, 460), 64, 256, true);
    // stacked projections: q, k, v of odd and vec4 sizes, k and v of a UNet attention's shape (uniform-B bands
    // for one of them), and a split
    check_linear_stacked(dt, 3, dg_test_int(1, 3), dg_test_int(1, 20), dg_test_int(1, 40), dg_test_int(1, 40));
    check_linear_stacked(dt, 3, 2, dg_test_int(1, 20), 4 * dg_test_int(1, 20), 4 * dg_test_int(1, 20));
    check_linear_stacked(dt, 2, 2, dg_test_int(60, 80), 128, 128);
    check_linear_stacked(dt, 3, 2, dg_test_int(60, 80), 4 * dg_test_int(30, 40), dg_test_int(60, 70));
    dg_arena_release(T.arena, (dg_arena_mark){0, 0});
  }
  // The paths matmul.comp was written for: on a CPU device with 8-lane subgroups, row-major A takes the
  // shared-row path and f32 linear layers read their weights through the uniform binding (a silent fall
  // back to per-lane loads is several times slower on lavapipe; issue 21).
  const dg_device_info *info = dg_device_get_info(T.device);
  if (!strcmp(info->type, "cpu") && info->subgroup_size == 8) {
    int64_t sx[2] = {64, 64}, sw[2] = {96, 64}, sy[2] = {64, 96};
    dg_tensor X = dg_test_tensor(DG_F32, 2, sx, -1, 1, NULL), W = dg_test_tensor(DG_F32, 2, sw, -1, 1, NULL);
    dg_tensor Y = dg_test_poisoned(DG_F32, 2, sy);
    dg_gemm_counts c0 = dg_gemm_get_counts();
    dg_test_ok(dg_linear(T.stream, &X, &W, NULL, &Y), "linear path check");
    dg_gemm_counts c1 = dg_gemm_get_counts();
    uint64_t n = c1.dispatches - c0.dispatches;
    dg_check(n > 0 && c1.coop - c0.coop == n, "f32 linear on %s: %llu of %llu dispatches on the shared-row path",
             info->name, (unsigned long long)(c1.coop - c0.coop), (unsigned long long)n);
    dg_check(n > 0 && c1.uniform_b - c0.uniform_b == n, "f32 linear on %s: %llu of %llu dispatches read B uniform",
             info->name, (unsigned long long)(c1.uniform_b - c0.uniform_b), (unsigned long long)n);
    // ... and with buffer device addresses read A through them (matmul_bda.comp; test_matmul_ssbo runs
    // without), as does a matmul whose row-major B is not read as a uniform.
    uint64_t ad = c1.address - c0.address;
    dg_check(ad == (info->buffer_address ? n : 0), "f32 linear on %s (addresses %d): %llu of %llu dispatches through addresses",
             info->name, info->buffer_address, (unsigned long long)ad, (unsigned long long)n);
    // ... as does the GEGLU linear (x columns from the uniform, the gate columns through addresses or storage)
    int64_t sw2[2] = {128, 64}, sy2[2] = {64, 64};
    dg_tensor W2 = dg_test_tensor(DG_F32, 2, sw2, -1, 1, NULL), Y2 = dg_test_poisoned(DG_F32, 2, sy2);
    c0 = dg_gemm_get_counts();
    dg_test_ok(dg_linear_geglu(T.stream, &X, &W2, NULL, &Y2), "linear_geglu path check");
    c1 = dg_gemm_get_counts();
    n = c1.dispatches - c0.dispatches;
    dg_check(n > 0 && c1.coop - c0.coop == n && c1.uniform_b - c0.uniform_b == n && c1.geglu - c0.geglu == n &&
                 c1.address - c0.address == (info->buffer_address ? n : 0),
             "f32 linear_geglu on %s: of %llu dispatches %llu shared-row, %llu uniform B, %llu GEGLU, %llu addresses",
             info->name, (unsigned long long)n, (unsigned long long)(c1.coop - c0.coop),
             (unsigned long long)(c1.uniform_b - c0.uniform_b), (unsigned long long)(c1.geglu - c0.geglu),
             (unsigned long long)(c1.address - c0.address));
    for (int d = 0; d < 2; d++) {
      dg_dtype dt = d ? DG_F16 : DG_F32;
      float *av, *bv;
      int64_t sa[2] = {40, 64}, sb[2] = {64, 48}, sc[2] = {40, 48};
      dg_tensor A = dg_test_tensor(dt, 2, sa, -1, 1, &av), B = dg_test_tensor(dt, 2, sb, -1, 1, &bv);
      dg_tensor C = dg_test_poisoned(dt, 2, sc);
      c0 = dg_gemm_get_counts();
      if (dg_test_ok(dg_matmul(T.stream, &A, false, &B, false, &C), "matmul path check")) {
        c1 = dg_gemm_get_counts();
        n = c1.dispatches - c0.dispatches;
        ad = c1.address - c0.address;
        dg_check(n > 0 && c1.coop - c0.coop == n, "%s matmul on %s: %llu of %llu dispatches on the shared-row path",
                 dg_dtype_name(dt), info->name, (unsigned long long)(c1.coop - c0.coop), (unsigned long long)n);
        dg_check(ad == (info->buffer_address ? n : 0), "%s matmul on %s: %llu of %llu dispatches through addresses",
                 dg_dtype_name(dt), info->name, (unsigned long long)ad, (unsigned long long)n);
        float *got = dg_test_read(&C), *want = malloc(40 * 48 * sizeof *want);
        for (int i = 0; i < 40; i++)
          for (int j = 0; j < 48; j++) {
            double acc = 0;
            for (int k = 0; k < 64; k++) acc += (double)av[i * 64 + k] * bv[k * 48 + j];
            want[i * 48 + j] = (float)acc;
          }
        dg_test_close("matmul path check", got, want, 40 * 48, dg_test_tolerance(dt));
        free(got);
        free(want);
      }
      free(av);
      free(bv);
    }
  }
  // Argument errors are reported, not crashed on.
  int64_t s34[2] = {3, 4}, s54[2] = {5, 4}, s35[2] = {3, 5}, s33[2] = {3, 3}, s4[1] = {4}, s233[3] = {2, 3, 3};
  int64_t s333[3] = {3, 3, 3};
  dg_tensor a = dg_test_tensor(DG_F32, 2, s34, 0, 1, NULL), b = dg_test_tensor(DG_F32, 2, s54, 0, 1, NULL);
  dg_tensor h = dg_test_tensor(DG_F16, 2, s54, 0, 1, NULL), o = dg_test_poisoned(DG_F32, 2, s35);
  dg_tensor o33 = dg_test_poisoned(DG_F32, 2, s33), v4 = dg_test_tensor(DG_F32, 1, s4, 0, 1, NULL);
  dg_tensor b2 = dg_test_tensor(DG_F32, 3, s233, 0, 1, NULL), b3 = dg_test_tensor(DG_F32, 3, s333, 0, 1, NULL);
  dg_tensor o2 = dg_test_poisoned(DG_F32, 3, s233);
  dg_check_error(dg_matmul(T.stream, &a, false, &b, false, &o), DG_ERR_ARG, "inner dims", "inner mismatch");
  dg_check_error(dg_matmul(T.stream, &a, false, &h, true, &o), DG_ERR_ARG, "dtype", "dtype mismatch");
  dg_check_error(dg_matmul(T.stream, &a, false, &b, true, &o33), DG_ERR_ARG, "out has shape", "bad out");
  dg_check_error(dg_matmul(T.stream, &v4, false, &b, true, &o), DG_ERR_ARG, "at least 2 dims", "1-D operand");
  dg_check_error(dg_matmul(T.stream, &b2, false, &b3, false, &o2), DG_ERR_ARG, "batch counts", "batch mismatch");
  dg_check_error(dg_linear(T.stream, &a, &o33, NULL, &o), DG_ERR_ARG, "in-features", "linear in mismatch");
  dg_check_error(dg_linear(T.stream, &a, &b, &a, &o), DG_ERR_ARG, "bias", "linear bias size");
  dg_check_error(dg_linear(T.stream, &a, &b, NULL, &o33), DG_ERR_ARG, "y has shape", "linear bad y");
  dg_check_error(dg_linear_ex(T.stream, &a, &b, NULL, &a, &o), DG_ERR_ARG, "residual", "linear residual size");
  int64_t s64[2] = {6, 4}, s32[2] = {3, 3};
  dg_tensor w64 = dg_test_tensor(DG_F32, 2, s64, 0, 1, NULL), o32 = dg_test_poisoned(DG_F32, 2, s32);
  dg_check_error(dg_linear_geglu(T.stream, &a, &b, NULL, &o), DG_ERR_ARG, "[2F, in]", "geglu odd out-features");
  dg_check_error(dg_linear_geglu(T.stream, &a, &w64, NULL, &o), DG_ERR_ARG, "y has shape", "geglu bad y");
  dg_check_error(dg_linear_geglu(T.stream, &a, &w64, &v4, &o32), DG_ERR_ARG, "bias", "geglu bias size");
  dg_check_error(dg_linear_stacked(T.stream, &a, &b, &o2), DG_ERR_ARG, "[S, out, in]", "stacked 2-D weight");
  dg_check_error(dg_linear_stacked(T.stream, &o, &b3, &o2), DG_ERR_ARG, "[S, out, in]", "stacked in mismatch");
  dg_check_error(dg_linear_stacked(T.stream, &o33, &b3, &o), DG_ERR_ARG, "y has shape", "stacked bad y");
  return dg_test_finish();
}
