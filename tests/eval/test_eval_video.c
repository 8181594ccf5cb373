// The VSTAR evaluation's metric functions (dg_eval_video_metrics) on hand-made inputs whose answers are
// known, the variant names, and the video dataset reader's errors (no Vulkan device needed).
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dg_check.h"
#include "dg_eval_video.h"
#include "dg_eval_video_metrics.h"

// The world's "time" schedule of a 16-frame clip: day 0-3, sunset 5-8, night 10-15.
static const int start3[3] = {0, 5, 10}, end3[3] = {3, 8, 15};

static void test_schedule(void) {
  int s[3], e[3], truth[16];
  dg_eval_video_scale_stages(start3, end3, 3, 16, 16, s, e);
  dg_check(!memcmp(s, start3, sizeof s) && !memcmp(e, end3, sizeof e), "16 -> 16 keeps the spans");
  dg_eval_video_scale_stages(start3, end3, 3, 16, 32, s, e);
  dg_check(s[0] == 0 && e[0] == 7 && s[1] == 10 && e[1] == 17 && s[2] == 20 && e[2] == 31,
           "16 -> 32: %d-%d %d-%d %d-%d", s[0], e[0], s[1], e[1], s[2], e[2]);
  dg_eval_video_scale_stages(start3, end3, 3, 16, 8, s, e);
  dg_check(s[0] == 0 && e[0] == 1 && s[1] == 2 && e[1] == 3 && s[2] == 5 && e[2] == 7, "16 -> 8: %d-%d %d-%d %d-%d",
           s[0], e[0], s[1], e[1], s[2], e[2]);
  dg_eval_video_truth(start3, end3, 3, 16, truth);
  dg_check(truth[0] == 0 && truth[3] == 0 && truth[4] == -1 && truth[5] == 1 && truth[8] == 1 && truth[9] == -1 &&
               truth[10] == 2 && truth[15] == 2,
           "truth per frame, -1 between stages");
}

// sim[f * 3 + k]: 1 for the frame's `judged` stage, 0 otherwise.
static void one_hot(const int *judged, int frames, int n_stages, float *sim) {
  for (int f = 0; f < frames; f++)
    for (int k = 0; k < n_stages; k++)
      sim[f * n_stages + k] = k == judged[f] ? 1.0f : 0.0f;
}

static void test_stage_accuracy(void) {
  int truth[16];
  float sim[16 * 3];
  dg_eval_video_truth(start3, end3, 3, 16, truth);
  // Every stage frame right; the two frames between stages judged to anything.
  int judged[16] = {0, 0, 0, 0, 2, 1, 1, 1, 1, 0, 2, 2, 2, 2, 2, 2};
  one_hot(judged, 16, 3, sim);
  double acc = dg_eval_video_stage_accuracy(sim, 16, 3, truth);
  dg_check(acc == 1.0, "all stage frames right: %g", acc);
  judged[3] = 1, judged[12] = 0; // two of the 14 stage frames wrong
  one_hot(judged, 16, 3, sim);
  acc = dg_eval_video_stage_accuracy(sim, 16, 3, truth);
  dg_check(fabs(acc - 12.0 / 14.0) < 1e-12, "two of 14 wrong: %g", acc);
  int one_truth[4] = {0, 0, 0, 0};
  float one_sim[4] = {0.1f, 0.2f, 0.3f, 0.4f};
  dg_check(isnan(dg_eval_video_stage_accuracy(one_sim, 4, 1, one_truth)), "a single stage: NaN");
}

static void test_transition(void) {
  // The weather schedule: clear 0-6, snow 9-15; the true transition is at (7 + 9) / 2 = 8.
  const int s[2] = {0, 9}, e[2] = {6, 15};
  float sim[16 * 2];
  for (int switch_at = 8; switch_at <= 11; switch_at += 3) {
    for (int f = 0; f < 16; f++)
      sim[f * 2] = f < switch_at ? 0.6f : 0.4f, sim[f * 2 + 1] = 0.5f;
    double at = dg_eval_video_transition_at(sim, 2, 0, s, e), err = dg_eval_video_transition_error(sim, 2, s, e);
    dg_check(at == switch_at && fabs(err - (switch_at - 8)) < 1e-12, "switch at %d: judged %g, error %g", switch_at, at,
             err);
  }
  // One frame out of place (frame 2 looks like snow): the split that the fewest frames disagree with stays.
  for (int f = 0; f < 16; f++)
    sim[f * 2] = f < 10 && f != 2 ? 0.6f : 0.4f, sim[f * 2 + 1] = 0.5f;
  dg_check(dg_eval_video_transition_at(sim, 2, 0, s, e) == 10, "an outlier frame does not move the split");
  // No preference anywhere: every split ties, the judged position is their mean (1..15 -> 8).
  for (int f = 0; f < 32; f++)
    sim[f] = 0.5f;
  dg_check(dg_eval_video_transition_at(sim, 2, 0, s, e) == 8, "ties: the mean split");
  // Three stages: both transitions right (4.5 and 9.5 true) -> judged 5 and 10: error 0.5.
  float sim3[16 * 3];
  int judged[16] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2};
  one_hot(judged, 16, 3, sim3);
  double err = dg_eval_video_transition_error(sim3, 3, start3, end3);
  dg_check(fabs(err - 0.5) < 1e-12, "three stages: error %g", err);
  dg_check(isnan(dg_eval_video_transition_error(sim3, 1, start3, end3)), "a single stage: NaN");
}

static void test_transition_width(void) {
  // Clear 0-6, snow 9-15 (frames 7, 8 between): a cut, a linear cross-fade and no change.
  const int s[2] = {0, 9}, e[2] = {6, 15};
  float sim[16 * 2];
  for (int f = 0; f < 16; f++)
    sim[f * 2] = f < 8 ? 0.6f : 0.4f, sim[f * 2 + 1] = 0.5f;
  double w = dg_eval_video_transition_width(sim, 2, s, e);
  dg_check(w == 1, "a cut: width %g", w);
  // d rises linearly from -0.1 (frames 0-3) to +0.1 (frames 12-15) over frames 3..12: the levels (medians of
  // the stages' frames) are -0.1 and +0.1, and frames 4..11 lie between (u = 1/9 .. 8/9) -> width 9.
  for (int f = 0; f < 16; f++) {
    double t = f <= 3 ? 0 : f >= 12 ? 1 : (f - 3) / 9.0;
    sim[f * 2] = 0.5f, sim[f * 2 + 1] = (float)(0.4 + 0.2 * t);
  }
  w = dg_eval_video_transition_width(sim, 2, s, e);
  dg_check(w == 9, "a cross-fade over 9 frames: width %g", w);
  // An outlier frame (frame 2 looks like snow) in a cut does not widen it.
  for (int f = 0; f < 16; f++)
    sim[f * 2] = f < 8 && f != 2 ? 0.6f : 0.4f, sim[f * 2 + 1] = 0.5f;
  w = dg_eval_video_transition_width(sim, 2, s, e);
  dg_check(w == 1, "an outlier: width %g", w);
  // No change of preference: undefined; a reversed one too.
  for (int f = 0; f < 16; f++)
    sim[f * 2] = 0.5f, sim[f * 2 + 1] = 0.5f;
  dg_check(isnan(dg_eval_video_transition_width(sim, 2, s, e)), "no change: NaN");
  for (int f = 0; f < 16; f++)
    sim[f * 2] = f < 8 ? 0.4f : 0.6f, sim[f * 2 + 1] = 0.5f;
  dg_check(isnan(dg_eval_video_transition_width(sim, 2, s, e)), "the wrong way round: NaN");
  // Three one-hot stages: both transitions cuts.
  float sim3[16 * 3];
  int judged[16] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2};
  one_hot(judged, 16, 3, sim3);
  w = dg_eval_video_transition_width(sim3, 3, start3, end3);
  dg_check(w == 1, "three stages, two cuts: width %g", w);
  dg_check(isnan(dg_eval_video_transition_width(sim3, 1, start3, end3)), "a single stage: NaN");
}

static void test_band_mass(void) {
  enum { F = 8 };
  float p[F * F];
  for (int i = 0; i < F * F; i++)
    p[i] = 1.0f / F;
  // Uniform: the band holds 8 + 2 * 7 + 2 * 6 = 34 of the 64 cells.
  dg_check(fabs(dg_eval_video_band_mass(p, F, 2) - 34.0 / 64) < 1e-6, "uniform");
  memset(p, 0, sizeof p);
  for (int i = 0; i < F; i++)
    p[i * F + i] = 1;
  dg_check(dg_eval_video_band_mass(p, F, 2) == 1.0, "diagonal");
  memset(p, 0, sizeof p);
  for (int i = 0; i < F; i++)
    p[i * F + (F - 1 - i)] = 1; // anti-diagonal: only rows 3 and 4 (|2i - 7| = 1) are within 2
  dg_check(fabs(dg_eval_video_band_mass(p, F, 2) - 0.25) < 1e-12, "anti-diagonal");
}

static void test_coherence(void) {
  uint8_t rgb[3 * 4] = {0, 0, 0, 0, 10, 10, 10, 10, 40, 40, 40, 40};
  dg_check(dg_eval_video_adjacent_l1(rgb, 3, 4) == 20.0, "adjacent L1 (10 + 30) / 2");
  const float emb[3 * 2] = {1, 0, 1, 0, 0, 1};
  dg_check(fabs(dg_eval_video_adjacent_cosine(emb, 3, 2) - 0.5) < 1e-12, "adjacent cosine (1 + 0) / 2");
  // Frames 0 and 1 the same; frame 2 moves one pixel from class 1 to 0: IoU 2/3 and 1/2.
  const uint8_t cls[3 * 4] = {0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1};
  double m = dg_eval_video_layout_stability(cls, 3, 4, 2);
  dg_check(fabs(m - (1 + 7.0 / 12) / 2) < 1e-12, "layout stability %g", m);
  dg_check(isnan(dg_eval_video_layout_stability(cls, 1, 4, 2)), "one frame: NaN");
}

static void test_variants_and_reader(void) {
  dg_eval_video_variant v;
  dg_check(dg_eval_video_variant_parse("vstar", &v) == DG_OK && v == DG_EVAL_VIDEO_VSTAR, "vstar");
  dg_check_error(dg_eval_video_variant_parse("sideways", &v), DG_ERR_ARG, "'sideways'", "unknown variant");
  char *dir = g_dir_make_tmp("dg_eval_video_XXXXXX", NULL), *path = g_build_filename(dir, "index.jsonl", NULL);
  const char *line = "{\"id\": \"a\", \"caption\": \"a street from day to night\", \"transition\": \"time\", "
                     "\"width\": 8, \"height\": 4, \"frames\": 2, \"frame_images\": [\"x0.png\", \"x1.png\"], "
                     "\"stages\": [{\"text\": \"a street during the day\", \"start\": 0, \"end\": 0}, "
                     "{\"text\": \"a street at night\", \"start\": 1, \"end\": 1}]}\n";
  g_file_set_contents(path, line, -1, NULL);
  dg_eval_video_timeline *t = NULL;
  int n = 0;
  if (dg_check_status(dg_eval_video_timelines_load(dir, 1, &t, &n), "one timeline"))
    dg_check(n == 1 && t[0].n_stages == 2 && t[0].end[1] == 1 && !strcmp(t[0].stage_text[1], "a street at night") &&
                 g_str_has_suffix(t[0].frame_images[1], "/x1.png"),
             "the timeline's fields");
  dg_eval_video_timelines_free(t, n);
  dg_check_error(dg_eval_video_timelines_load(dir, 2, &t, &n), DG_ERR_ARG, "fewer than --count 2", "too few");
  g_file_set_contents(path, "{\"id\": \"a\", \"image\": \"x.png\"}\n", -1, NULL);
  dg_check_error(dg_eval_video_timelines_load(dir, 1, &t, &n), DG_ERR_FORMAT, "index.jsonl:1", "an image dataset");
  g_unlink(path);
  g_rmdir(dir);
  g_free(path), g_free(dir);
}

// The report's JSON read back (--resume): a written report round-trips; mutated ones (bytes changed, cut
// short) are read or refused, never crash, and a refused one leaves the report empty.
static void test_report_roundtrip(void) {
  dg_eval_video_timeline tl[2] = {{.id = "t-a", .caption = "c", .transition = "time", .frames = 4, .n_stages = 2,
                                   .stage_text = {"day", "night"}, .start = {0, 2}, .end = {1, 3}},
                                  {.id = "t-b", .caption = "c", .transition = "time", .frames = 4, .n_stages = 1,
                                   .stage_text = {"day"}, .start = {0}, .end = {3}}};
  dg_eval_video_settings st = {.data = "d", .model = "m", .count = 2, .frames = 4, .steps = 2, .until = 1, .cfg = 7.5,
                               .seed = 3, .n_variants = 2, .variants = {DG_EVAL_VIDEO_VSTAR, DG_EVAL_VIDEO_BASE}};
  dg_eval_video_report a, b;
  dg_check(dg_eval_video_report_init(&a, &st, tl) == DG_OK, "report init");
  a.n = 2, a.seconds = 12.5, a.has_real[0] = true;
  a.real[0] = (dg_eval_video_clip){.stage_acc = 1, .transition_err = 0.5, .transition_width = NAN, .clip_cos = 0.9,
                                   .l1 = 3, .layout_miou = 0.8, .band_mass = NAN, .seconds = NAN, .judged = {0, 0, 1, 1}};
  for (int i = 0; i < 2; i++)
    for (int v = 0; v < DG_EVAL_VIDEO_VARIANTS; v++)
      a.clips[i * DG_EVAL_VIDEO_VARIANTS + v] = (dg_eval_video_clip){
          .stage_acc = 0.25 * v, .transition_err = i, .transition_width = 2, .clip_cos = 0.5, .l1 = 7 + v,
          .layout_miou = 0.3, .band_mass = 0.1 * v, .seconds = 4, .judged = {0, 1, i, 1}};
  char *dir = g_dir_make_tmp("dg-eval-video-XXXXXX", NULL), *path = g_build_filename(dir, "r.json", NULL);
  dg_check(dg_eval_video_report_write_json(&a, path) == DG_OK, "report written");
  dg_check(dg_eval_video_report_init(&b, &st, tl) == DG_OK, "report init");
  dg_check(dg_eval_video_report_read_json(&b, path) == DG_OK, "report read back: %s", dg_last_error());
  bool same = b.n == 2 && b.seconds == 12.5 && b.has_real[0] && !b.has_real[1] && b.real[0].l1 == 3 &&
              isnan(b.real[0].band_mass) && b.real[0].judged[2] == 1;
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) {
      int v = st.variants[j];
      const dg_eval_video_clip *x = &a.clips[i * DG_EVAL_VIDEO_VARIANTS + v], *y = &b.clips[i * DG_EVAL_VIDEO_VARIANTS + v];
      same = same && x->stage_acc == y->stage_acc && x->l1 == y->l1 && x->band_mass == y->band_mass &&
             !memcmp(x->judged, y->judged, 4);
    }
  dg_check(same, "the report round-trips");
  st.frames = 5;
  dg_eval_video_report c;
  dg_check(dg_eval_video_report_init(&c, &st, tl) == DG_OK, "report init");
  dg_check(dg_eval_video_report_read_json(&c, path) != DG_OK && strstr(dg_last_error(), "frame count") && c.n == 0,
           "other frames refused: %s", dg_last_error());
  dg_eval_video_report_free(&c);
  st.frames = 4;
  char *text;
  gsize len;
  g_file_get_contents(path, &text, &len, NULL);
  static const char junk[] = "0123456789{}[],:\"-. nule";
  GRand *rng = g_rand_new_with_seed(7);
  int read_ok = 0;
  for (int k = 0; k < 300; k++) {
    char *m = g_memdup2(text, len);
    gsize n = k % 3 == 0 ? (gsize)g_rand_int_range(rng, 0, (gint32)len) : len;
    for (int f = 0; f < 1 + k % 4; f++)
      m[g_rand_int_range(rng, 0, (gint32)len)] = junk[g_rand_int_range(rng, 0, (gint32)sizeof junk - 1)];
    g_file_set_contents(path, m, (gssize)n, NULL);
    dg_eval_video_report_free(&b);
    dg_eval_video_report_init(&b, &st, tl);
    dg_status s = dg_eval_video_report_read_json(&b, path);
    read_ok += s == DG_OK;
    if (s != DG_OK && b.n != 0) dg_check(false, "mutation %d refused but left %d timelines", k, b.n);
    g_free(m);
  }
  dg_check(read_ok < 300, "mutated reports: %d of 300 read, the rest refused", read_ok);
  g_rand_free(rng);
  g_free(text);
  g_unlink(path);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
  dg_eval_video_report_free(&a);
  dg_eval_video_report_free(&b);
}

int main(void) {
  test_schedule();
  test_stage_accuracy();
  test_transition();
  test_transition_width();
  test_band_mass();
  test_coherence();
  test_variants_and_reader();
  test_report_roundtrip();
  return dg_check_finish("test_eval_video");
}
