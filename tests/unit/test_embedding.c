// Token embedding lookup and the sinusoidal timestep embedding against the CPU reference: both
// dtypes, odd sizes, out-of-range ids, and (split run) tables and outputs over several windows.
#include <stdlib.h>
#include <string.h>

#include "dg_embedding.h"
#include "dg_ref.h"
#include "dg_test.h"

static void check_lookup(dg_dtype dt, int64_t vocab, int64_t dim, int64_t n) {
  int64_t ts[2] = {vocab, dim}, os[2] = {n, dim};
  float *table;
  dg_tensor tt = dg_test_tensor(dt, 2, ts, -2, 2, &table), to = dg_test_poisoned(dt, 2, os);
  dg_range ids;
  if (dg_arena_alloc(T.arena, (uint64_t)n * 4, &ids) != DG_OK) {
    dg_check(false, "ids allocation: %s", dg_last_error());
    return;
  }
  uint32_t *host = malloc((size_t)n * sizeof *host);
  for (int64_t i = 0; i < n; i++)
    host[i] = (uint32_t)dg_test_int(0, (int)vocab + 2); // a few past the end
  dg_test_ok(dg_range_write(ids, 0, host, (uint64_t)n * 4), "upload ids");
  char what[96];
  snprintf(what, sizeof what, "embedding %s vocab=%lld dim=%lld n=%lld", dg_dtype_name(dt), (long long)vocab,
           (long long)dim, (long long)n);
  if (dg_test_ok(dg_embedding_lookup(T.stream, ids, n, &tt, &to), what)) {
    float *got = dg_test_read(&to), *want = malloc((size_t)(n * dim) * sizeof *want);
    dg_ref_embedding_lookup(host, n, table, vocab, dim, want);
    dg_test_close(what, got, want, n * dim, 1e-30); // a copy: exact
    free(got);
    free(want);
  }
  free(host);
  free(table);
}

// Host ids (checked, uploaded): in range, so a plain gather.
static void check_lookup_host(dg_dtype dt, int64_t vocab, int64_t dim, int64_t n) {
  int64_t ts[2] = {vocab, dim}, os[2] = {n, dim};
  float *table;
  dg_tensor tt = dg_test_tensor(dt, 2, ts, -1, 1, &table), to = dg_test_poisoned(dt, 2, os);
  uint32_t *ids = malloc((size_t)n * sizeof *ids);
  for (int64_t i = 0; i < n; i++)
    ids[i] = (uint32_t)dg_test_int(0, (int)vocab - 1);
  char what[96];
  snprintf(what, sizeof what, "embedding host ids %s vocab=%lld dim=%lld n=%lld", dg_dtype_name(dt),
           (long long)vocab, (long long)dim, (long long)n);
  if (dg_test_ok(dg_embedding_lookup_host(T.stream, T.arena, ids, n, &tt, &to), what)) {
    float *got = dg_test_read(&to), *want = malloc((size_t)(n * dim) * sizeof *want);
    dg_ref_embedding_lookup(ids, n, table, vocab, dim, want);
    dg_test_close(what, got, want, n * dim, 1e-30);
    free(got);
    free(want);
  }
  ids[n / 2] = (uint32_t)vocab;
  dg_check_error(dg_embedding_lookup_host(T.stream, T.arena, ids, n, &tt, &to), DG_ERR_ARG, "outside",
                 "embedding host id past the table");
  free(ids);
  free(table);
}

static void check_timestep(dg_dtype dt, int64_t n, int dim, float tmax, bool cos_first) {
  int64_t ns[1] = {n}, os[2] = {n, dim};
  float *t;
  dg_tensor tt = dg_test_tensor(DG_F32, 1, ns, 0, tmax, &t), to = dg_test_poisoned(dt, 2, os);
  char what[96];
  snprintf(what, sizeof what, "timestep_embedding %s n=%lld dim=%d t<=%g cos_first=%d", dg_dtype_name(dt), (long long)n,
           dim, tmax, cos_first);
  if (dg_test_ok(dg_timestep_embedding(T.stream, &tt, dim, 10000, cos_first, &to), what)) {
    float *got = dg_test_read(&to), *want = malloc((size_t)(n * dim) * sizeof *want);
    dg_ref_timestep_embedding(t, n, dim, 10000, cos_first, want);
    // Arguments reach t (up to 1000): one f32 ulp of t * freq is 6e-5 there, so f32 gets 3e-4.
    dg_test_close(what, got, want, n * dim, dt == DG_F16 ? 1e-2 : tmax > 10 ? 3e-4 : 1e-4);
    free(got);
    free(want);
  }
  free(t);
}

int main(void) {
  dg_test_init("test_embedding");
  for (int d = 0; d < 2; d++) {
    dg_dtype dt = d ? DG_F16 : DG_F32;
    check_lookup(dt, dg_test_int(1, 50), dg_test_int(1, 33), dg_test_int(1, 77));
    check_lookup(dt, 1000, 64, 77);
    check_lookup(dt, 600, 77, 300); // split run: table and output in several windows
    check_lookup_host(dt, dg_test_int(1, 20), dg_test_int(1, 20), 7);
    check_lookup_host(dt, 600, 77, 300);
    check_timestep(dt, dg_test_int(1, 8), 2 * dg_test_int(1, 100), 1000, true);
    check_timestep(dt, dg_test_int(1, 8), 2 * dg_test_int(1, 100) + 1, 1000, false);
    check_timestep(dt, 4, 320, 1, true);
    check_timestep(dt, 3, 320, 1000, true);
    check_timestep(dt, 100, 321, 1000, true); // split run: several windows
    dg_arena_release(T.arena, (dg_arena_mark){0, 0});
  }
  int64_t ts[2] = {10, 4}, os[2] = {3, 4}, t1[1] = {3};
  dg_tensor table = dg_test_tensor(DG_F32, 2, ts, 0, 1, NULL), o = dg_test_poisoned(DG_F32, 2, os);
  dg_tensor t = dg_test_tensor(DG_F32, 1, t1, 0, 1, NULL), th = dg_test_tensor(DG_F16, 1, t1, 0, 1, NULL);
  dg_range ids;
  dg_arena_alloc(T.arena, 16, &ids);
  dg_check_error(dg_embedding_lookup(T.stream, ids, 5, &table, &o), DG_ERR_ARG, "ids", "too few ids");
  dg_check_error(dg_embedding_lookup(T.stream, ids, 2, &table, &o), DG_ERR_ARG, "out", "out size");
  dg_check_error(dg_embedding_lookup(T.stream, ids, 3, &t, &o), DG_ERR_ARG, "table", "table rank");
  dg_check_error(dg_timestep_embedding(T.stream, &t, 5, 10000, true, &o), DG_ERR_ARG, "out", "ts out shape");
  dg_check_error(dg_timestep_embedding(T.stream, &th, 4, 10000, true, &o), DG_ERR_ARG, "f32", "ts dtype");
  dg_check_error(dg_timestep_embedding(T.stream, &t, 4, 0, true, &o), DG_ERR_ARG, "max_period", "ts period");
  return dg_test_finish();
}
