// `build/tests/bench/dirigent-bench-decode [--model DIR] [--runs N] [--size WxH] [--profile]`: where a live
// frame's decode goes, for the model's VAE decoder and its tiny decoder (tiny_decoder.safetensors) alternately,
// as dg_generate runs them: the latent's upload, the decode recorded and finished (wall), the image's read-back,
// with dispatches per decode; with --profile (GPU timestamps) also the GPU time of the decode's dispatches, so
// wall - GPU is what recording, submission and per-dispatch overhead cost. Medians over N runs after one
// warm-up each. Run by hand; not a test.
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_bench_util.h"
#include "dg_model_set.h"
#include "dg_rng.h"
#include "dg_tiny_decoder.h"
#include "dg_vae.h"

static int cmp(const void *a, const void *b) {
  double d = *(const double *)a - *(const double *)b;
  return (d > 0) - (d < 0);
}
static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return n ? (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2])) : 0;
}

static double gpu_ms(dg_stream *s) {
  const dg_profile_entry *e;
  int n = dg_stream_profile(s, &e);
  double t = 0;
  for (int i = 0; i < n; i++)
    t += e[i].total_ms;
  return t;
}

int main(int argc, char **argv) {
  const char *model = NULL;
  int runs = 9, width = 256, height = 128;
  bool profile = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--profile"))
      profile = true;
    else if (v && !strcmp(a, "--model"))
      model = v, i++;
    else if (v && !strcmp(a, "--runs") && (runs = atoi(v)) > 0)
      i++;
    else if (v && !strcmp(a, "--size") && sscanf(v, "%dx%d", &width, &height) == 2)
      i++;
    else {
      fprintf(stderr, "usage: dirigent-bench-decode [--model DIR] [--runs N] [--size WxH] [--profile]\n");
      return 2;
    }
  }
  char *def = g_build_filename(DG_BENCH_ASSETS, "models", NULL),
       *tok = g_build_filename(DG_BENCH_ASSETS, "tokenizer", NULL);
  dg_device *dev;
  dg_model_set *m;
  dg_device_options dopt = {.timestamps = profile};
  dg_model_options mo = {.default_tokenizer_dir = tok, .dtype = DG_F32};
  if (!dg_bench_ok(dg_device_open(&dopt, &dev), "device") ||
      !dg_bench_ok(dg_model_set_open(dev, model ? model : def, &mo, &m), "model"))
    return 1;
  const dg_vae *vae = dg_model_set_get(m, DG_ROLE_VAE);
  const dg_tiny_decoder *tiny = dg_model_set_get(m, DG_ROLE_TINY_DECODER);
  if (!tiny) fprintf(stderr, "the model has no tiny decoder: the VAE's only\n");
  dg_stream *s = dg_model_set_stream(m);
  dg_arena *scratch = dg_model_set_scratch(m);
  dg_nn_ctx nn = {.s = s, .scratch = scratch, .dtype = DG_F32};
  int f = dg_model_set_latent_factor(m), lh = height / f, lw = width / f;
  int64_t zs[4] = {1, vae->cfg.embed_dim, lh, lw}, nz = zs[1] * lh * lw, npx = 3LL * width * height;
  float *z = malloc((size_t)nz * sizeof *z), *img = malloc((size_t)npx * sizeof *img);
  dg_randn(1, 0, nz, z); // about the spread of the VAE's unscaled latents (std 1.9)
  for (int64_t i = 0; i < nz; i++)
    z[i] *= 1.9f;
  double *t[2][4];
  uint64_t disp[2] = {0, 0};
  for (int k = 0; k < 2; k++)
    for (int j = 0; j < 4; j++)
      t[k][j] = calloc((size_t)runs, sizeof(double));
  for (int r = 0; r < runs + 1; r++)
    for (int k = 0; k < (tiny ? 2 : 1); k++) {
      dg_arena_mark mark = dg_arena_get_mark(scratch);
      dg_tensor zt, out;
      double g0 = gpu_ms(s), t0 = dg_bench_now();
      uint64_t d0 = dg_stream_dispatch_count(s);
      if (!dg_bench_ok(dg_nn_alloc(&nn, 4, zs, &zt), "latent") || !dg_bench_ok(dg_tensor_write_f32(&zt, z), "upload"))
        return 1;
      double t1 = dg_bench_now();
      dg_status st = k ? dg_tiny_decoder_decode(&nn, tiny, &zt, &out) : dg_vae_decode(&nn, vae, &zt, &out);
      if (!dg_bench_ok(st, "decode") || !dg_bench_ok(dg_stream_finish(s), "finish")) return 1;
      double t2 = dg_bench_now();
      if (!dg_bench_ok(dg_tensor_read_f32(&out, img), "read back")) return 1;
      double t3 = dg_bench_now();
      disp[k] = dg_stream_dispatch_count(s) - d0;
      if (r) {
        t[k][0][r - 1] = 1e3 * (t1 - t0), t[k][1][r - 1] = 1e3 * (t2 - t1), t[k][2][r - 1] = 1e3 * (t3 - t2);
        t[k][3][r - 1] = gpu_ms(s) - g0;
      }
      dg_arena_release(scratch, mark);
    }
  printf("decode of a %dx%d latent -> %dx%d image, f32, %d runs (medians, ms)%s:\n", lw, lh, width, height, runs,
         profile ? ", GPU timestamps on" : "");
  printf("%-14s %10s %10s %12s %12s %12s\n", "decoder", "dispatches", "upload", "decode wall", "decode GPU",
         "read back");
  for (int k = 0; k < (tiny ? 2 : 1); k++) {
    double up = median(t[k][0], runs), dec = median(t[k][1], runs), rb = median(t[k][2], runs),
           g = median(t[k][3], runs);
    char gs[32];
    snprintf(gs, sizeof gs, profile ? "%.1f" : "-", g);
    printf("%-14s %10llu %10.2f %12.1f %12s %12.2f\n", k ? "tiny decoder" : "VAE decoder", (unsigned long long)disp[k],
           up, dec, gs, rb);
  }
  for (int k = 0; k < 2; k++)
    for (int j = 0; j < 4; j++)
      free(t[k][j]);
  free(z), free(img), g_free(def), g_free(tok);
  dg_model_set_close(m);
  dg_device_close(dev);
  return 0;
}
