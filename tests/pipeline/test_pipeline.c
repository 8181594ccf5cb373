// The generation pipeline end to end on a tiny complete model folder (tests/pipeline/tiny_model, made
// by make_tiny_model.py): images equal the PyTorch reference pipeline's (text-to-image and with the
// ALDM layout ControlNet), the same seed gives the same bytes, progress arrives every step with a
// preview, cancel stops within one step, and bad requests are errors.
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "dg_generate.h"
#include "dg_safetensors.h"
#include "dg_test.h"

#define H 32
#define W 64

typedef struct progress {
  int calls, last_step, total;
  bool preview_ok;
  atomic_bool *cancel_at_1;
} progress;

static void on_step(void *user, int step, int total, const uint8_t *rgb, int w, int h) {
  progress *p = user;
  p->calls++;
  p->last_step = step;
  p->total = total;
  p->preview_ok = rgb && w == W / 2 && h == H / 2;
  if (p->cancel_at_1 && step == 1) atomic_store(p->cancel_at_1, true);
}

// Largest difference in 8-bit levels between rgb and the reference image [3, H, W] in [-1, 1].
static int max_level_diff(const uint8_t *rgb, const dg_safetensors *st, const char *name) {
  const dg_st_tensor *t = dg_safetensors_find(st, name);
  float ref[3 * H * W];
  if (!t || dg_safetensors_read(st, t, DG_F32, ref, sizeof ref) != DG_OK) return 999;
  int worst = 0;
  for (int i = 0; i < H * W; i++)
    for (int c = 0; c < 3; c++) {
      float v = (ref[c * H * W + i] + 1.0f) * 127.5f;
      int want = (int)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f), d = abs(want - rgb[i * 3 + c]);
      if (d > worst) worst = d;
    }
  return worst;
}

int main(void) {
  dg_test_init("test_pipeline");
  dg_safetensors *expected;
  if (!dg_test_ok(dg_safetensors_open(DG_PIPELINE_DIR "/expected.safetensors", &expected), "expected images"))
    return dg_test_finish();
  uint8_t layout[H * W];
  const dg_st_tensor *lt = dg_safetensors_find(expected, "label_map");
  dg_check(lt && lt->dtype == DG_ST_U8, "layout fixture is U8");
  if (lt) memcpy(layout, dg_safetensors_data(expected, lt), sizeof layout);

  for (int d = 0; d < 2; d++) {
    dg_dtype dt = d ? DG_F16 : DG_F32;
    dg_model_set *m;
    dg_model_options mo = {.dtype = dt};
    if (!dg_test_ok(dg_model_set_open(T.device, DG_PIPELINE_DIR "/tiny_model", &mo, &m), "open tiny model")) continue;
    printf("%s", dg_model_set_describe(m));
    dg_check(dg_model_set_has_control(m) && dg_model_set_latent_factor(m) == 2, "control and factor 2");
    static uint8_t a[H * W * 3], b[H * W * 3];
    progress pr = {0};
    dg_generate_params p = {.prompt = "a red car on a street at night",
                            .negative = "blurry",
                            .width = W,
                            .height = H,
                            .steps = 4,
                            .cfg = 5.0f,
                            .seed = 7,
                            .sampler = DG_SAMPLER_DDIM,
                            .on_step = on_step,
                            .user = &pr};
    int tol = d ? 6 : 1; // 8-bit levels: f32 matches to rounding; f16 storage within a few levels
    if (dg_test_ok(dg_generate(m, &p, a), "text-to-image")) {
      int diff = max_level_diff(a, expected, "image_text");
      dg_check(diff <= tol, "%s text-to-image vs PyTorch: %d levels (tolerance %d)", dg_dtype_name(dt), diff, tol);
      printf("  %s text-to-image: max difference to PyTorch %d levels\n", dg_dtype_name(dt), diff);
      dg_check(pr.calls == 4 && pr.total == 4 && pr.preview_ok, "4 progress calls with previews (%d)", pr.calls);
    }
    if (dg_test_ok(dg_generate(m, &p, b), "again")) dg_check(!memcmp(a, b, sizeof a), "same seed, same bytes");
    p.seed = 8;
    if (dg_test_ok(dg_generate(m, &p, b), "seed 8")) dg_check(memcmp(a, b, sizeof a) != 0, "another seed differs");
    p.seed = 7;
    p.layout = layout;
    if (dg_test_ok(dg_generate(m, &p, b), "layout-to-image")) {
      int diff = max_level_diff(b, expected, "image_layout");
      dg_check(diff <= tol, "%s layout-to-image vs PyTorch: %d levels", dg_dtype_name(dt), diff);
      printf("  %s layout-to-image: max difference to PyTorch %d levels\n", dg_dtype_name(dt), diff);
      int changed = 0;
      for (int i = 0; i < H * W * 3; i++)
        changed += abs(a[i] - b[i]) > 8;
      dg_check(changed > H * W / 4, "the layout changes the image (%d values moved > 8 levels)", changed);
    }
    uint8_t other[H * W];
    for (int i = 0; i < H * W; i++)
      other[i] = (uint8_t)(layout[i] == 9 ? 4 : layout[i]); // car -> grass
    p.layout = other;
    static uint8_t c[H * W * 3];
    if (dg_test_ok(dg_generate(m, &p, c), "other layout"))
      dg_check(memcmp(b, c, sizeof c) != 0, "another layout gives another image");
    // The cache: the same bytes as without it; a generation whose texts (or layout) are cached runs no
    // text encoder (builds no hint).
    dg_generate_cache *cache = dg_generate_cache_new();
    dg_generate_cache_stats st;
    static uint8_t e[H * W * 3];
    p.cache = cache, p.layout = layout;
    if (dg_test_ok(dg_generate(m, &p, e), "cached, first"))
      dg_check(!memcmp(b, e, sizeof e), "filling the cache: same bytes");
    dg_generate_cache_get_stats(cache, &st);
    dg_check(st.text_encodes == 2 && st.text_hits == 0 && st.hint_builds == 1 && st.hint_hits == 0,
             "first: 2 encodings, 1 hint (%d %d %d %d)", st.text_encodes, st.text_hits, st.hint_builds, st.hint_hits);
    if (dg_test_ok(dg_generate(m, &p, e), "cached, again"))
      dg_check(!memcmp(b, e, sizeof e), "from the cache: same bytes");
    dg_generate_cache_get_stats(cache, &st);
    dg_check(st.text_encodes == 2 && st.text_hits == 2 && st.hint_builds == 1 && st.hint_hits == 1,
             "again: no text encoder, no hint built (%d %d %d %d)", st.text_encodes, st.text_hits, st.hint_builds,
             st.hint_hits);
    p.layout = other;
    if (dg_test_ok(dg_generate(m, &p, e), "cached, other layout"))
      dg_check(!memcmp(c, e, sizeof e), "other layout: same bytes");
    p.layout = NULL;
    if (dg_test_ok(dg_generate(m, &p, e), "cached, no layout"))
      dg_check(!memcmp(a, e, sizeof e), "no layout: same bytes");
    dg_generate_cache_get_stats(cache, &st);
    dg_check(st.text_encodes == 2 && st.text_hits == 6 && st.hint_builds == 2 && st.hint_hits == 1,
             "layout edits: a hint built per new layout, texts reused (%d %d %d %d)", st.text_encodes, st.text_hits,
             st.hint_builds, st.hint_hits);
    p.prompt = "a blue car by the sea";
    if (dg_test_ok(dg_generate(m, &p, e), "cached, new prompt")) {
      p.cache = NULL;
      if (dg_test_ok(dg_generate(m, &p, c), "uncached, new prompt"))
        dg_check(!memcmp(c, e, sizeof e), "new prompt: same bytes");
    }
    dg_generate_cache_get_stats(cache, &st);
    dg_check(st.text_encodes == 3 && st.text_hits == 7, "a new prompt: one encoding, the negative reused (%d %d)",
             st.text_encodes, st.text_hits);
    dg_generate_cache_bind(cache, NULL); // another model set: forgotten
    p.cache = cache, p.prompt = "a red car on a street at night";
    if (dg_test_ok(dg_generate(m, &p, e), "cached, after another set"))
      dg_check(!memcmp(a, e, sizeof e), "rebound: same bytes");
    dg_generate_cache_get_stats(cache, &st);
    dg_check(st.text_encodes == 5, "another model set's cache encodes again (%d)", st.text_encodes);
    p.cache = NULL;
    dg_generate_cache_free(cache);
    p.layout = layout;
    // Cancel raised from the step-1 callback: the sampler stops before another step.
    atomic_bool cancel = false;
    progress pc = {.cancel_at_1 = &cancel};
    p.cancel = &cancel;
    p.user = &pc;
    dg_status s = dg_generate(m, &p, b);
    dg_check(s == DG_ERR_CANCELLED && pc.calls == 2, "cancel stops within one step (%s, %d steps)", dg_status_name(s),
             pc.calls);
    atomic_store(&cancel, false);
    p.user = &pr;
    p.layout = NULL;
    if (dg_test_ok(dg_generate(m, &p, b), "after a cancel")) dg_check(!memcmp(a, b, sizeof a), "usable after cancel");
    p.cancel = NULL;
    // Attention guidance: unchanged without objects or with guidance none; with marks it moves the image,
    // deterministically, with and without a layout.
    dg_marks none_marked = {0}, marks;
    p.guidance = DG_GUIDANCE_DIVIDE_BIND, p.marks = &none_marked;
    if (dg_test_ok(dg_generate(m, &p, b), "divide-bind, nothing marked"))
      dg_check(!memcmp(a, b, sizeof a), "divide-bind with nothing marked is plain sampling");
    if (dg_test_ok(dg_generate_marks(m, p.prompt, "red:car, street", &marks), "marks")) {
      p.guidance = DG_GUIDANCE_NONE, p.marks = &marks;
      if (dg_test_ok(dg_generate(m, &p, b), "guidance none, marked"))
        dg_check(!memcmp(a, b, sizeof a), "guidance none with marks is plain sampling");
      dg_guidance_stats gs = {0}; // outlives the loop: the layout case below reports into it too
      for (int k = DG_GUIDANCE_ATTEND_EXCITE; k <= DG_GUIDANCE_DIVIDE_BIND; k++) {
        gs = (dg_guidance_stats){0};
        p.guidance = k, p.guidance_stats = &gs;
        if (dg_test_ok(dg_generate(m, &p, b), dg_guidance_name(k))) {
          dg_check(memcmp(a, b, sizeof a) != 0 && gs.updates >= 2,
                   "%s moves the image (%d updates, %d in refinement)", dg_guidance_name(k), gs.updates,
                   gs.refinement_updates);
          if (dg_test_ok(dg_generate(m, &p, c), "again")) dg_check(!memcmp(b, c, sizeof c), "guided: same bytes again");
        }
      }
      p.layout = layout, gs = (dg_guidance_stats){0};
      if (dg_test_ok(dg_generate(m, &p, c), "divide-bind with a layout"))
        dg_check(gs.updates >= 2, "divide-bind runs with the ControlNet (%d updates)", gs.updates);
      p.layout = NULL;
      p.prompt = "a car a car a car a car a car a car a car a car a car", gs = (dg_guidance_stats){0};
      if (dg_test_ok(dg_generate_marks(m, p.prompt, "car", &marks), "marks of a long prompt"))
        dg_check(dg_test_ok(dg_generate(m, &p, b), "a prompt past 16 tokens") && gs.updates >= 1,
                 "a guided prompt of 19 tokens (%d updates)", gs.updates);
      p.prompt = "a red car on a street at night";
    }
    p.guidance = DG_GUIDANCE_NONE, p.marks = NULL, p.guidance_stats = NULL;
    // Bad requests.
    p.width = 63;
    dg_check_error(dg_generate(m, &p, b), DG_ERR_ARG, "multiples of 4", "odd width");
    p.width = W;
    p.steps = 0;
    dg_check_error(dg_generate(m, &p, b), DG_ERR_ARG, "steps", "zero steps");
    dg_model_set_close(m);
  }
  dg_model_set *none;
  dg_check_error(dg_model_set_open(T.device, "/nonexistent/model.safetensors", NULL, &none), DG_ERR_IO, "/nonexistent",
                 "missing model file");
  dg_safetensors_close(expected);
  return dg_test_finish();
}
