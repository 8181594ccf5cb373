// `dirigent-cli eval video`: issue 19's VSTAR evaluation (dg_eval_video): base, VSP, TAR and VSTAR on the
// timelines of a world video dataset, measured by the model folder's evaluation models; a table on stdout,
// the report as JSON (rewritten after each timeline, so a stopped run keeps what it measured, and --resume
// goes on from it: the 50 timelines x 3 frame counts of the issue take longer than one session).
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dg_assets.h"
#include "dg_cli.h"
#include "dg_eval_video.h"
#include "dg_settings.h"

typedef struct options {
  dg_cli_sampling s;
  dg_eval_video_settings e;
  const char *video_unet, *report;
  bool variant_given, resume;
} options;

static void usage(FILE *f) {
  fprintf(f,
          "usage: dirigent-cli eval video --data DIR --count N [options]\n\n"
          "VSTAR's comparison (issue 19): for each of the first N timelines of a world video dataset\n"
          "(`world dataset --video`), one video per variant from the same seed, the stages at their\n"
          "ground-truth start frames scaled to --frames, measured by the evaluation models:\n"
          "stage accuracy (per frame the stage text of highest CLIP similarity vs the ground truth),\n"
          "transition position error, adjacent-frame CLIP cosine and L1, segmenter mIoU between\n"
          "consecutive frames, and the temporal attention's mass within |i-j| <= 2 (finest level, step 0).\n\n"
          "  --data DIR          the dataset folder holding index.jsonl\n"
          "  --count N           the first N timelines\n"
          "  --frames F          frames per video (2..%d, default 16)\n"
          "  --variant V         base, vsp, tar or vstar; repeat or join with ',' (default all four)\n"
          "  --steps S           DDIM steps, eta 1 (default 25)\n"
          "  --until K           TAR's last regularised step (default 13 of 25, scaled to --steps)\n"
          "  --cfg X --seed S    guidance (default 7.5); timeline i uses seed S + i (default 0)\n"
          "  --model DIR         model folder with the video UNet, eval_segmenter and clip (default: the\n"
          "                      embedded assets/models); --video-unet FILE another video UNet\n"
          "  --report OUT.json   the report as JSON\n"
          "  --resume            go on after the timelines --report already holds (same options; --count\n"
          "                      may grow; a report not there yet starts afresh)\n"
          "  --frames-out DIR    each video as a PNG grid, DIR/ID_VARIANT.png\n"
          "  --f16 --quiet\n",
          DG_VIDEO_MAX_FRAMES);
}

static int bad(const char *opt, const char *v, const char *rule) {
  fprintf(stderr, "eval video: %s '%s': %s\n", opt, v ? v : "(nothing)", rule);
  return 2;
}

static int add_variants(options *o, const char *v) {
  if (!o->variant_given) o->e.n_variants = 0, o->variant_given = true;
  gchar **parts = g_strsplit(v, ",", -1);
  int rc = -1;
  for (int i = 0; parts[i] && rc < 0; i++) {
    dg_eval_video_variant var;
    if (dg_eval_video_variant_parse(parts[i], &var) != DG_OK)
      rc = bad("--variant", parts[i], "base, vsp, tar or vstar");
    for (int j = 0; rc < 0 && j < o->e.n_variants; j++)
      if (o->e.variants[j] == var) rc = bad("--variant", parts[i], "given twice");
    if (rc < 0) o->e.variants[o->e.n_variants++] = var;
  }
  g_strfreev(parts);
  return rc;
}

static int parse(int argc, char **argv, options *o) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "video")) continue;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    }
    if (dg_cli_sampling_flag(a, &o->s)) continue;
    if (!strcmp(a, "--resume")) {
      o->resume = true;
      continue;
    }
    if (!strncmp(a, "--", 2) && !v) return bad(a, v, "needs a value");
    int took = dg_cli_sampling_option("eval video", a, v, &o->s);
    if (took < 0) return 2;
    long n;
    if (took) {
    } else if (!strcmp(a, "--data")) {
      if (!*v) return bad(a, v, "a dataset folder holding index.jsonl");
      o->e.data = v;
    } else if (!strcmp(a, "--report"))
      o->report = v;
    else if (!strcmp(a, "--frames-out"))
      o->e.frames_out = v;
    else if (!strcmp(a, "--video-unet"))
      o->video_unet = v;
    else if (!strcmp(a, "--count")) {
      if (!dg_cli_parse_long(v, 1, 100000, &n)) return bad(a, v, "a count 1..100000");
      o->e.count = (int)n;
    } else if (!strcmp(a, "--frames")) {
      if (!dg_cli_parse_long(v, 2, DG_VIDEO_MAX_FRAMES, &n)) return bad(a, v, "frames are 2..128");
      o->e.frames = (int)n;
    } else if (!strcmp(a, "--until")) {
      if (!dg_cli_parse_long(v, 0, 999, &n)) return bad(a, v, "a step index 0..999");
      o->e.until = (int)n;
    } else if (!strcmp(a, "--variant")) {
      int rc = add_variants(o, v);
      if (rc >= 0) return rc;
    } else {
      fprintf(stderr, "eval video: unknown option '%s'\n", a);
      usage(stderr);
      return 2;
    }
    i++;
  }
  if (!o->e.data || !o->e.count) {
    fprintf(stderr, "eval video: --data DIR and --count N are required\n");
    usage(stderr);
    return 2;
  }
  if (o->s.sampler && strcmp(o->s.sampler, "ddim")) return bad("--sampler", o->s.sampler, "video sampling is DDIM");
  if (o->resume && !o->report) return bad("--resume", NULL, "needs --report OUT.json, the report to go on from");
  return -1;
}

static void on_progress(void *user, int timeline, dg_eval_video_variant v, int step, int total) {
  const options *o = user;
  fprintf(stderr, "\r\033[Keval video: timeline %d/%d, %s, step %d/%d", timeline + 1, o->e.count,
          dg_eval_video_variant_names[v], step, total);
}

static dg_status on_done(void *user, const dg_eval_video_report *r) {
  const options *o = user;
  if (!o->s.quiet) fprintf(stderr, "\r\033[Keval video: %d/%d timelines, %.0f s\n", r->n, o->e.count, r->seconds);
  return o->report ? dg_eval_video_report_write_json(r, o->report) : DG_OK;
}

int dg_cli_eval_video(int argc, char **argv) {
  options o = {.s = DG_CLI_SAMPLING_DEFAULTS, .e = {.frames = 16, .until = -1, .n_variants = DG_EVAL_VIDEO_VARIANTS}};
  for (int v = 0; v < DG_EVAL_VIDEO_VARIANTS; v++)
    o.e.variants[v] = (dg_eval_video_variant)v;
  int rc = parse(argc, argv, &o);
  if (rc >= 0) return rc;
  char *model = o.s.model ? g_strdup(o.s.model) : dg_assets_path("models");
  char *tokenizer = dg_assets_path("tokenizer");
  o.e.model = model, o.e.steps = o.s.steps, o.e.cfg = o.s.cfg, o.e.seed = o.s.seed;
  if (o.e.until < 0) o.e.until = (o.s.steps * 13 + 12) / 25;
  dg_model_options mo = {
      .video_unet = o.video_unet, .default_tokenizer_dir = tokenizer, .dtype = o.s.f16 ? DG_F16 : DG_F32};
  dg_eval_video_timeline *tl = NULL;
  int n_tl = 0;
  dg_device *dev = NULL;
  dg_model_set *gen = NULL;
  dg_eval_models *ev = NULL;
  dg_eval_video_report report = {0};
  // Inputs and outputs are checked before any model is loaded.
  dg_status s = dg_eval_video_timelines_load(o.e.data, o.e.count, &tl, &n_tl);
  if (s == DG_OK && o.report) s = dg_settings_check_output("--report", o.report);
  if (s == DG_OK && o.e.frames_out) s = dg_settings_check_output_dir("--frames-out", o.e.frames_out);
  if (s == DG_OK) s = dg_eval_video_report_init(&report, &o.e, tl);
  if (s == DG_OK && o.resume && g_file_test(o.report, G_FILE_TEST_EXISTS)) {
    s = dg_eval_video_report_read_json(&report, o.report);
    if (s == DG_OK && !o.s.quiet)
      fprintf(stderr, "eval video: %d of %d timelines in %s, going on\n", report.n, o.e.count, o.report);
  }
  if (s == DG_OK) s = dg_device_open(NULL, &dev);
  if (s == DG_OK) s = dg_model_set_open(dev, model, &mo, &gen);
  if (s == DG_OK) s = dg_eval_models_open(dev, model, tokenizer, mo.dtype, &ev);
  if (s == DG_OK) s = dg_eval_video_run(gen, ev, &report, !o.s.quiet && isatty(2) ? on_progress : NULL, on_done, &o);
  if (report.n) {
    dg_eval_video_report_print(&report, stdout);
    if (o.report) printf("wrote %s\n", o.report);
  }
  if (s != DG_OK) fprintf(stderr, "eval video: %s\n", dg_last_error());
  dg_eval_video_report_free(&report);
  dg_eval_models_close(ev);
  dg_model_set_close(gen);
  dg_device_close(dev);
  dg_eval_video_timelines_free(tl, n_tl);
  g_free(model);
  g_free(tokenizer);
  return s == DG_OK ? 0 : 1;
}
