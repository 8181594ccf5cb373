// The evaluation models against the `eval/` fixtures (tools/train/dgtrain/make_fixtures_eval.py): the UperNet
// segmenter's logits and per-pixel classes, and the contrastive model's image features, image and text
// embeddings and their similarities (from the fixture's ids and from the texts through the C
// tokenizer); f32 and f16 storage. Also: a BatchNorm-folding check by a wrong configuration, and the
// loaders' errors for a missing configuration and a GroupNorm segmenter.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dg_clip.h"
#include "dg_segmenter.h"
#include "dg_test.h"
#include "golden_util.h"

typedef struct model_files {
  dg_weights *w;
  dg_model_config cfg;
} model_files;

static bool open_model(const char *file, model_files *m) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", golden_dir, file);
  m->w = NULL;
  return dg_test_ok(dg_weights_open(path, &m->w), file) && dg_test_ok(dg_model_config_load(path, m->w, &m->cfg), file);
}

static void close_model(model_files *m) {
  dg_model_config_free(&m->cfg);
  dg_weights_close(m->w);
}

static void segmenter(dg_dtype dt, model_files *mf, dg_safetensors *st, int refine) {
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_nn_src src = {mf->w, T.arena, dt};
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = dt};
  dg_segmenter *m = calloc(1, sizeof *m);
  if (!dg_test_ok(dg_segmenter_load(&src, &mf->cfg, m), "segmenter load")) goto done;
  dg_check(m->num_classes == 14 && m->stem == 8 && m->channels[3] == 24 && m->blocks[1] == 2 && m->fpn_dim == 16 &&
               m->n_scales == 4 && m->pool_scales[3] == 6 && m->refine == refine,
           "segmenter config from shapes and JSON (refine %d)", refine);
  dg_tensor image = golden_tensor(st, "image", dt), logits;
  if (!dg_test_ok(dg_segmenter_forward(&nn, m, &image, &logits), "segmenter forward")) goto done;
  golden_check("segmenter logits", &logits, st, "logits", dt);
  // Classes: the engine's argmax agrees wherever the reference's top two logits are apart by more than
  // the tolerance (ties within rounding may go either way).
  int64_t n, hw = logits.shape[2] * logits.shape[3];
  float *got = dg_test_read(&logits), *want = golden_read(st, "logits", NULL), *cls = golden_read(st, "classes", &n);
  uint8_t *pred = malloc((size_t)hw);
  dg_segmenter_argmax(got, m->num_classes, hw, pred);
  float maxabs = 0;
  for (int64_t i = 0; i < m->num_classes * hw; i++)
    maxabs = fmaxf(maxabs, fabsf(want[i]));
  int64_t decided = 0, wrong = 0;
  for (int64_t i = 0; i < hw; i++) {
    float a = -INFINITY, b = -INFINITY;
    for (int c = 0; c < m->num_classes; c++) {
      float v = want[c * hw + i];
      if (v > a) b = a, a = v;
      else if (v > b) b = v;
    }
    if (a - b <= 2 * dg_test_tolerance(dt) * maxabs) continue;
    decided++;
    wrong += pred[i] != (uint8_t)cls[i];
  }
  printf("  segmenter classes %s: %lld of %lld decided pixels differ\n", dg_dtype_name(dt), (long long)wrong,
         (long long)decided);
  dg_check(n == hw && wrong == 0 && decided > hw / 2, "segmenter argmax %s: %lld wrong of %lld decided",
           dg_dtype_name(dt), (long long)wrong, (long long)decided);
  free(got), free(want), free(cls), free(pred);
  // classify() from RGB8 runs the same network.
  uint8_t *rgb = malloc((size_t)hw * 3), *classes = malloc((size_t)hw);
  for (int64_t i = 0; i < hw * 3; i++)
    rgb[i] = (uint8_t)((i * 37) % 251);
  dg_check_status(dg_segmenter_classify(&nn, m, rgb, (int)logits.shape[3], (int)logits.shape[2], classes),
                  "segmenter classify");
  int64_t counted = 0;
  for (int64_t i = 0; i < hw; i++)
    counted += classes[i] < m->num_classes;
  dg_check(counted == hw, "classify gives class ids");
  free(rgb), free(classes);
done:
  free(m);
  dg_arena_release(T.arena, mark);
}

static void clip(dg_dtype dt, model_files *mf, dg_safetensors *st) {
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_nn_src src = {mf->w, T.arena, dt};
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = dt};
  dg_clip *c = calloc(1, sizeof *c);
  double tol = dg_test_tolerance(dt);
  if (!dg_test_ok(dg_clip_load(&src, &mf->cfg, c), "clip load")) goto done;
  dg_check(c->embed_dim == 16 && c->image.out_dim == 24 && c->image.stem_stride == 8 && c->image.groups == 4 &&
               c->image.n_stages == 4 && c->text.heads == 4,
           "clip config from shapes and JSON");
  // Image tower on the fixture's float images.
  dg_tensor images = golden_tensor(st, "images", dt), feat, proj;
  if (dg_test_ok(dg_clip_image_forward(&nn, &c->image, &images, &feat, &proj), "clip image forward")) {
    golden_check("clip image_features", &feat, st, "image_features", dt);
    float *e = dg_test_read(&proj);
    dg_clip_normalize(e, 2, c->embed_dim);
    golden_check_host("clip image_embeds", e, st, "image_embeds", tol);
    free(e);
  }
  // Text tower from the fixture's ids and from the texts via the tokenizer.
  int64_t n;
  float *idf = golden_read(st, "ids", &n), *te = malloc(3 * 16 * sizeof *te), *te2 = malloc(3 * 16 * sizeof *te2);
  int32_t *ids = malloc((size_t)n * sizeof *ids);
  for (int64_t i = 0; i < n; i++)
    ids[i] = (int32_t)idf[i];
  if (dg_test_ok(dg_clip_embed_ids(&nn, c, ids, 3, 77, te), "clip text"))
    golden_check_host("clip text_embeds", te, st, "text_embeds", tol);
  char tdir[1024];
  snprintf(tdir, sizeof tdir, "%s/../text/tokenizer", golden_dir);
  dg_tokenizer *tok = NULL;
  const char *texts[3] = {"a red car on a snowy street at night", "two people and three trees next to a yellow building",
                          ""};
  if (dg_test_ok(dg_tokenizer_load(tdir, &tok), "tokenizer") &&
      dg_test_ok(dg_clip_embed_texts(&nn, c, tok, texts, 3, te2), "clip texts"))
    golden_check_host("clip text_embeds from texts", te2, st, "text_embeds", tol);
  // Similarities from RGB8-free inputs are their dot products: check against the fixture's matrix.
  float *ie = golden_read(st, "image_embeds", NULL), sim[6];
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++)
      sim[i * 3 + j] = dg_clip_similarity(ie + i * 16, te + j * 16, 16);
  golden_check_host("clip similarity", sim, st, "similarity", tol);
  free(ie);
  dg_tokenizer_free(tok);
  free(idf), free(te), free(te2), free(ids);
  // dg_clip_image_embed (RGB8 in) gives unit vectors.
  uint8_t *rgb = malloc(64 * 128 * 3);
  for (int i = 0; i < 64 * 128 * 3; i++)
    rgb[i] = (uint8_t)((i * 13) % 256);
  const uint8_t *list[1] = {rgb};
  float f[24], e[16];
  if (dg_test_ok(dg_clip_image_embed(&nn, &c->image, list, 1, 128, 64, f, e), "clip image embed"))
    dg_check(fabsf(dg_clip_similarity(e, e, 16) - 1) < 1e-5f, "image embedding has unit norm");
  free(rgb);
done:
  free(c);
  dg_arena_release(T.arena, mark);
}

// A configuration that disagrees with the weights, or is missing, is reported.
static void errors(void) {
  char path[1024], tmp[] = "/tmp/dg_golden_eval_XXXXXX";
  if (!mkdtemp(tmp)) return;
  snprintf(path, sizeof path, "%s/segmenter_weights.safetensors", golden_dir);
  char link[1100], json[1100];
  snprintf(link, sizeof link, "%s/seg.safetensors", tmp);
  snprintf(json, sizeof json, "%s/seg.json", tmp);
  char *abs = realpath(path, NULL);
  if (!abs || symlink(abs, link)) {
    dg_check(false, "symlink %s", link);
    free(abs);
    return;
  }
  free(abs);
  dg_weights *w = NULL;
  dg_model_config cfg;
  dg_check_status(dg_weights_open(link, &w), "open linked segmenter");
  dg_check_error(dg_model_config_load(link, w, &cfg), DG_ERR_IO, "seg.json", "missing configuration names the file");
  FILE *f = fopen(json, "w");
  fputs("{\"norm\": \"gn\"}", f);
  fclose(f);
  dg_segmenter *m = calloc(1, sizeof *m);
  dg_nn_src src = {w, T.arena, DG_F32};
  if (dg_check_status(dg_model_config_load(link, w, &cfg), "load written config")) {
    dg_check_error(dg_segmenter_load(&src, &cfg, m), DG_ERR_UNSUPPORTED, "gn", "GroupNorm segmenter refused");
    dg_model_config_free(&cfg);
  }
  f = fopen(json, "w");
  fputs("{\"pool_scales\": [1, 2, 3]}", f); // the file has 4 pyramid convs
  fclose(f);
  if (dg_check_status(dg_model_config_load(link, w, &cfg), "load written config")) {
    dg_check_error(dg_segmenter_load(&src, &cfg, m), DG_ERR_FORMAT, "pool_scales", "pool scales disagree with weights");
    dg_model_config_free(&cfg);
  }
  f = fopen(json, "w");
  fputs("{\"pool_scales\": [1, 2.5]}", f);
  fclose(f);
  if (dg_check_status(dg_model_config_load(link, w, &cfg), "load written config")) {
    dg_check_error(dg_segmenter_load(&src, &cfg, m), DG_ERR_FORMAT, "is 2.5, not a whole number",
                   "non-integer pool scale");
    dg_model_config_free(&cfg);
  }
  free(m);
  dg_weights_close(w);
  remove(json);
  remove(link);
  remove(tmp);
}

int main(int argc, char **argv) {
  golden_init(argc, argv, "test_golden_eval");
  model_files seg, cl;
  for (int refine = 0; refine <= 4; refine += 4) { // without and with the full-resolution refinement head
    if (!open_model(refine ? "segmenter_refine_weights.safetensors" : "segmenter_weights.safetensors", &seg)) continue;
    dg_safetensors *st = golden_open(refine ? "segmenter_refine.safetensors" : "segmenter.safetensors");
    segmenter(DG_F32, &seg, st, refine);
    segmenter(DG_F16, &seg, st, refine);
    dg_safetensors_close(st);
    close_model(&seg);
  }
  if (open_model("clip_weights.safetensors", &cl)) {
    dg_safetensors *st = golden_open("clip.safetensors");
    clip(DG_F32, &cl, st);
    clip(DG_F16, &cl, st);
    dg_safetensors_close(st);
    close_model(&cl);
  }
  errors();
  return dg_test_finish();
}
