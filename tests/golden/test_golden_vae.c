// The KL autoencoder against the fixtures `vae_encoder` (mean, logvar) and `vae_decoder` (image).
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dg_test.h"
#include "dg_vae.h"
#include "golden_util.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void run(dg_dtype dt, dg_weights *w) {
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_nn_src src = {w, T.arena, dt};
  dg_vae *v = calloc(1, sizeof *v);
  dg_nn nn = {T.stream, T.arena, dt};
  if (!dg_test_ok(dg_vae_load(&src, v), "vae load")) goto done;
  dg_safetensors *enc = golden_open("vae_encoder.safetensors"), *dec = golden_open("vae_decoder.safetensors");
  dg_tensor image = golden_tensor(enc, "image", dt), z = golden_tensor(dec, "z", dt), mean, logvar, out;
  for (int rep = 0; rep < 2; rep++) { // the second run is timed without pipeline creation
    dg_arena_mark m2 = dg_arena_get_mark(T.arena);
    double t0 = now_ms();
    if (!dg_test_ok(dg_vae_encode(&nn, v, &image, &mean, &logvar), "vae encode")) break; // finishes
    double t1 = now_ms();
    if (!dg_test_ok(dg_vae_decode(&nn, v, &z, &out), "vae decode")) break;
    double t2 = now_ms();
    if (rep) {
      golden_check("vae_encoder mean", &mean, enc, "mean", dt);
      golden_check("vae_encoder logvar", &logvar, enc, "logvar", dt);
      golden_check("vae_decoder image", &out, dec, "image", dt);
      printf("  vae %s: encode 32x64 %.1f ms, decode 16x32 latent %.1f ms\n", dg_dtype_name(dt), t1 - t0, t2 - t1);
    }
    dg_arena_release(T.arena, m2);
  }
  dg_safetensors_close(enc);
  dg_safetensors_close(dec);
done:
  free(v);
  dg_arena_release(T.arena, mark);
}

int main(int argc, char **argv) {
  if (argc > 1) golden_dir = argv[1];
  dg_test_init("test_golden_vae");
  char path[1024];
  snprintf(path, sizeof path, "%s/vae_weights.safetensors", golden_dir);
  dg_weights *w = NULL;
  if (dg_test_ok(dg_weights_open(path, &w), "open vae weights")) {
    run(DG_F32, w);
    run(DG_F16, w);
    dg_weights_close(w);
  }
  return dg_test_finish();
}
