// The CLIP text encoder against the `text/text_encoder` fixture: last_hidden_state, pooled and the
// clip-skip-2 states (hidden_layer_m2), f32 and f16 storage.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dg_clip_text.h"
#include "dg_test.h"
#include "golden_util.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void run(dg_dtype dt, dg_weights *w, dg_safetensors *st) {
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_nn_src src = {w, T.arena, dt};
  dg_clip_text *c = calloc(1, sizeof *c);
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = dt};
  int64_t n;
  float *idf = golden_read(st, "ids", &n);
  const dg_st_tensor *it = dg_safetensors_find(st, "ids");
  int b = (int)it->shape[0], len = (int)it->shape[1];
  int32_t *ids = malloc((size_t)n * sizeof *ids);
  for (int64_t i = 0; i < n; i++)
    ids[i] = (int32_t)idf[i];
  if (!dg_test_ok(dg_clip_text_load(&src, 4, c), "clip load")) goto done;
  dg_tensor hid, hid2;
  double t0 = 0, t1 = 0;
  for (int rep = 0; rep < 2; rep++) { // the first run includes pipeline creation; its scratch stays
    t0 = now_ms();
    if (!dg_test_ok(dg_clip_text_forward(&nn, c, ids, b, len, 0, &hid), "clip forward")) goto done; // finishes
    t1 = now_ms();
  }
  golden_check("text_encoder last_hidden_state", &hid, st, "last_hidden_state", dt);
  float *h = dg_test_read(&hid), *pooled = malloc((size_t)b * c->cfg.width * sizeof *pooled);
  for (int i = 0; i < b; i++)
    memcpy(pooled + i * c->cfg.width,
           h + ((size_t)i * len + dg_clip_text_pooled_index(ids + i * len, len)) * c->cfg.width,
           (size_t)c->cfg.width * sizeof *pooled);
  char what[96];
  snprintf(what, sizeof what, "text_encoder pooled %s", dg_dtype_name(dt));
  golden_check_host(what, pooled, st, "pooled", dg_test_tolerance(dt));
  free(h);
  free(pooled);
  if (dg_test_ok(dg_clip_text_forward(&nn, c, ids, b, len, 1, &hid2), "clip forward skip"))
    golden_check("text_encoder hidden_layer_m2", &hid2, st, "hidden_layer_m2", dt);
  printf("  clip text %s: [%d, %d] forward %.1f ms\n", dg_dtype_name(dt), b, len, t1 - t0);
  // From the texts through the C tokenizer (the fixture's ids are the tokenizer's encodings of them).
  const char *texts[4] = {"a red car on a snowy street at night", "", "it's 2024: caf\u00e9!", NULL};
  char *long_text = malloc(400);
  long_text[0] = 0;
  for (int i = 0; i < 30; i++)
    strcat(long_text, i ? " a red car" : "a red car");
  texts[3] = long_text;
  char tdir[1024];
  snprintf(tdir, sizeof tdir, "%s/tokenizer", golden_dir);
  dg_tokenizer *tok = NULL;
  dg_tensor ctx;
  if (b == 4 && dg_test_ok(dg_tokenizer_load(tdir, &tok), "tokenizer load") &&
      dg_test_ok(dg_clip_text_encode(&nn, c, tok, texts, 4, 0, &ctx), "clip encode texts"))
    golden_check("text_encoder from texts via the tokenizer", &ctx, st, "last_hidden_state", dt);
  dg_tokenizer_free(tok);
  free(long_text);
done:
  free(idf);
  free(ids);
  free(c);
  dg_arena_release(T.arena, mark);
}

int main(int argc, char **argv) {
  golden_init(argc, argv, "test_golden_clip_text");
  dg_weights *w = golden_weights("text_encoder_weights.safetensors");
  if (w) {
    dg_safetensors *st = golden_open("text_encoder.safetensors");
    run(DG_F32, w, st);
    run(DG_F16, w, st);
    dg_safetensors_close(st);
    dg_weights_close(w);
  }
  return dg_test_finish();
}
