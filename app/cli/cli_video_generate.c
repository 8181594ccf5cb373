// `dirigent-cli video generate`: prompt stages -> one video from the model's video UNet (dg_video: VSP,
// TAR, optional layout through the layout ControlNet), exported as `video export` does.
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dg_assets.h"
#include "dg_cli.h"
#include "dg_palette.h"
#include "dg_palette_choice.h"
#include "dg_palette_convert.h"
#include "dg_png.h"
#include "dg_settings.h"
#include "dg_video.h"
#include "dg_world_json.h"

typedef struct options {
  dg_cli_sampling s;
  dg_video_stage stages[DG_VIDEO_MAX_STAGES];
  int n_stages, frames, width, height, until, attn_layer, attn_step;
  dg_vsp_mode vsp;
  dg_video_export_opts eo;
  const char *negative, *tar, *layout, *palette, *attention, *video_unet, *out, *format;
} options;

static void usage(FILE *f) {
  fprintf(f,
          "usage: dirigent-cli video generate --stage FRAME:PROMPT [--stage ...] --out OUT [options]\n\n"
          "One video that moves through the prompt stages, from the model's video UNet (VSTAR: Video Synopsis\n"
          "Prompting and Temporal Attention Regularisation), exported like `video export`.\n\n"
          "  --stage FRAME:PROMPT  a stage from FRAME (0-based) on, given in any order; without FRAME (on every\n"
          "                      stage): key frames at linspace(0, F-1, stages) as VSTAR places them\n"
          "  --frames F          frames (2..%d, default 16)\n"
          "  --fps N             the model's fps conditioning and the export rate (default 8)\n"
          "  --steps S --cfg X --seed N --model DIR|FILE --f16  as `generate` (DDIM, eta 1 as VSTAR)\n"
          "  --negative TEXT     negative prompt (repeated per frame)\n"
          "  --vsp linear|same|off  per-frame prompts: interpolated (default), piecewise, or one joined prompt\n"
          "  --tar WdS[_WdS...]|none  TAR at latent width W with sigma S (default: the finest level with\n"
          "                      temporal attention, sigma 1; with more than 32 frames also the next, sigma 8)\n"
          "  --until K           the last regularised step (default 13 of 25, scaled to --steps)\n"
          "  --width W --height H  frame size (default 256x128, or the layout's)\n"
          "  --layout L.png      a layout kept on every frame through the layout ControlNet; --palette P\n"
          "  --attention OUT.png  the [F, F] temporal attention of --attention-layer N (default 0) at\n"
          "                      --attention-step K (default 0), rows scaled to their maximum\n"
          "  --video-unet FILE   the video UNet (default: the model folder's video_unet.safetensors)\n\n%s",
          DG_VIDEO_MAX_FRAMES, DG_CLI_VIDEO_OPTIONS_HELP);
}

static int bad(const char *opt, const char *v, const char *rule) {
  fprintf(stderr, "video generate: %s '%s': %s\n", opt, v ? v : "(nothing)", rule);
  return 2;
}

static int add_stage(options *o, const char *v) {
  if (o->n_stages == DG_VIDEO_MAX_STAGES) return bad("--stage", v, "too many stages");
  const char *colon = strchr(v, ':');
  long frame = -1;
  if (colon && colon > v) {
    char *num = g_strndup(v, (gsize)(colon - v));
    bool ok = dg_cli_parse_long(num, 0, DG_VIDEO_MAX_FRAMES - 1, &frame);
    g_free(num);
    if (!ok) return bad("--stage", v, "FRAME:PROMPT with FRAME a frame index (0-based)");
    v = colon + 1;
  } else if (colon == v) {
    v++;
  }
  o->stages[o->n_stages++] = (dg_video_stage){(int)frame, v};
  return -1;
}

// Pairs "WdS" joined by '_' (VSTAR's "64D1_32D8").
static dg_status parse_tar(const char *v, dg_tar *t, int until) {
  int64_t widths[DG_TAR_MAX_RES];
  float sigmas[DG_TAR_MAX_RES];
  gchar **parts = g_strsplit(v, "_", -1);
  int n = 0;
  dg_status s = DG_OK;
  for (int i = 0; parts[i] && s == DG_OK; i++, n++) {
    char *end;
    long w = strtol(parts[i], &end, 10);
    double sg = 0;
    if (n == DG_TAR_MAX_RES || end == parts[i] || (*end != 'D' && *end != 'd'))
      s = dg_fail(DG_ERR_ARG, "--tar '%s': pairs WIDTHdSIGMA joined by '_' (e.g. 16D1_8D8), at most %d", v,
                  DG_TAR_MAX_RES);
    else if (!dg_cli_parse_double(end + 1, 1e-3, 1e3, &sg) || w < 1)
      s = dg_fail(DG_ERR_ARG, "--tar '%s': '%s' needs a positive width and sigma", v, parts[i]);
    else widths[n] = w, sigmas[n] = (float)sg;
  }
  g_strfreev(parts);
  return s == DG_OK ? dg_tar_init(t, n, widths, sigmas, 1.0f, until) : s;
}

static int parse(int argc, char **argv, options *o) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    }
    if (dg_cli_sampling_flag(a, &o->s)) continue;
    int took = dg_cli_sampling_option("video generate", a, v, &o->s);
    if (took < 0) return 2;
    long n;
    if (!took) took = dg_cli_video_option("video generate", a, v, &o->eo, &o->format); // --fps among them
    if (took < 0) return 2;
    if (took) {
    } else if (!v) {
      return bad(a, v, "needs a value");
    } else if (!strcmp(a, "--stage")) {
      int rc = add_stage(o, v);
      if (rc >= 0) return rc;
    } else if (!strcmp(a, "--frames")) {
      long f;
      if (!dg_cli_parse_long(v, 2, DG_VIDEO_MAX_FRAMES, &f)) return bad(a, v, "frames are 2..128");
      o->frames = (int)f;
    } else if (!strcmp(a, "--until")) {
      if (!dg_cli_parse_long(v, 0, 999, &n)) return bad(a, v, "a step index 0..999");
      o->until = (int)n;
    } else if (!strcmp(a, "--attention-layer") || !strcmp(a, "--attention-step")) {
      if (!dg_cli_parse_long(v, 0, 999, &n)) return bad(a, v, "an index 0..999");
      *(a[12] == 'l' ? &o->attn_layer : &o->attn_step) = (int)n;
    } else if (!strcmp(a, "--width") || !strcmp(a, "--height")) {
      if (!dg_cli_parse_side("video generate", a, v, a[2] == 'w' ? &o->width : &o->height)) return 2;
    } else if (!strcmp(a, "--vsp")) {
      if (!strcmp(v, "linear")) o->vsp = DG_VSP_LINEAR;
      else if (!strcmp(v, "same")) o->vsp = DG_VSP_SAME;
      else if (!strcmp(v, "off")) o->vsp = DG_VSP_OFF;
      else return bad(a, v, "linear, same or off");
    } else if (!strcmp(a, "--negative")) o->negative = v;
    else if (!strcmp(a, "--tar")) o->tar = v;
    else if (!strcmp(a, "--layout")) o->layout = v;
    else if (!strcmp(a, "--palette")) o->palette = v;
    else if (!strcmp(a, "--attention")) o->attention = v;
    else if (!strcmp(a, "--video-unet")) o->video_unet = v;
    else if (!strcmp(a, "--out")) o->out = v;
    else {
      fprintf(stderr, "video generate: unknown option '%s'\n", a);
      usage(stderr);
      return 2;
    }
    i++;
  }
  if (!o->n_stages || !o->out) {
    fprintf(stderr, "video generate: --stage and --out are required\n");
    usage(stderr);
    return 2;
  }
  // Stages may come in any order: by frame (stable), then checked before any model is loaded.
  for (int i = 1; i < o->n_stages; i++)
    for (int j = i; j > 0 && o->stages[j].frame < o->stages[j - 1].frame; j--) {
      dg_video_stage t = o->stages[j];
      o->stages[j] = o->stages[j - 1], o->stages[j - 1] = t;
    }
  if (dg_video_check_stages(o->stages, o->n_stages, o->frames) != DG_OK) {
    fprintf(stderr, "video generate: %s\n", dg_last_error());
    return 2;
  }
  return -1;
}

// The [F, F] matrix as a grey picture, each row scaled to its maximum, cells of `cell` pixels.
static dg_status write_attention(const char *path, const float *probs, int f) {
  int cell = f < 64 ? 256 / f : 4, side = f * cell;
  uint8_t *rgb = malloc((size_t)side * side * 3);
  if (!rgb) return dg_fail(DG_ERR_OOM, "out of memory for the attention picture");
  for (int i = 0; i < f; i++) {
    float mx = 1e-12f;
    for (int j = 0; j < f; j++)
      mx = probs[i * f + j] > mx ? probs[i * f + j] : mx;
    for (int y = 0; y < cell; y++)
      for (int j = 0; j < f; j++)
        for (int x = 0; x < cell; x++)
          memset(rgb + (((size_t)(i * cell + y) * side) + j * cell + x) * 3, (int)(255.0f * probs[i * f + j] / mx + 0.5f),
                 3);
  }
  dg_status s = dg_png_write_rgb8(path, side, side, rgb, NULL);
  free(rgb);
  return s;
}

static void on_step(void *user, int step, int total, int frame, const uint8_t *rgb, int w, int h) {
  (void)rgb, (void)w, (void)h;
  const double *t0 = user;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  fprintf(stderr, "\rvideo generate: step %d/%d (preview frame %d) %.1f s%s", step + 1, total, frame,
          (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec - *t0, step + 1 == total ? "\n" : "");
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// The job as JSON for the container's metadata.
static char *job_json(const options *o, const char *model, int w, int h) {
  dg_json j;
  dg_json_init(&j);
  dg_json_add(&j, "{\"task\": \"video\", \"model\": ");
  dg_json_str(&j, model);
  dg_json_add(&j, ", \"stages\": [");
  for (int i = 0; i < o->n_stages; i++) {
    dg_json_add(&j, "%s{\"frame\": %d, \"prompt\": ", i ? ", " : "", o->stages[i].frame);
    dg_json_str(&j, o->stages[i].prompt);
    dg_json_add(&j, "}");
  }
  dg_json_add(&j, "], \"negative\": ");
  dg_json_str(&j, o->negative ? o->negative : "");
  dg_json_add(&j, ", \"frames\": %d, \"fps\": %g, \"width\": %d, \"height\": %d, \"steps\": %d, \"cfg\": %g, "
                  "\"seed\": %llu, \"vsp\": \"%s\", \"tar\": ",
              o->frames, o->eo.fps, w, h, o->s.steps, o->s.cfg, (unsigned long long)o->s.seed,
              o->vsp == DG_VSP_LINEAR ? "linear" : o->vsp == DG_VSP_SAME ? "same" : "off");
  dg_json_str(&j, o->tar ? o->tar : "default");
  dg_json_add(&j, ", \"until\": %d, \"control_scale\": %g}", o->until, o->s.control_scale > 0 ? o->s.control_scale : 1);
  char *t = dg_json_finish(&j), *r = g_strdup(t);
  free(t);
  return r;
}

int dg_cli_video_generate(int argc, char **argv) {
  options o = {.s = DG_CLI_SAMPLING_DEFAULTS, .frames = 16, .until = -1, .vsp = DG_VSP_LINEAR,
               .eo = DG_VIDEO_EXPORT_DEFAULTS};
  int rc = parse(argc, argv, &o);
  if (rc >= 0) return rc;
  char *model = o.s.model ? g_strdup(o.s.model) : dg_assets_path("models");
  char *tokenizer = dg_assets_path("tokenizer");
  dg_model_options mo = {.video_unet = o.video_unet, .default_tokenizer_dir = tokenizer,
                         .dtype = o.s.f16 ? DG_F16 : DG_F32};
  dg_palette *palette = NULL;
  dg_png_palette pal;
  const char **names = NULL;
  uint8_t *layout = NULL;
  float *probs = NULL;
  dg_device *dev = NULL;
  dg_model_set *m = NULL;
  dg_media media = {0};
  // A PNG sequence's folder (OUT/) is made by the exporter; a file is checked before any work.
  dg_status s = g_str_has_suffix(o.out, "/") ? DG_OK : dg_settings_check_output("--out", o.out);
  if (s == DG_OK && o.attention) s = dg_settings_check_output("--attention", o.attention);
  if (s == DG_OK && o.layout) {
    if (o.palette) palette = dg_palette_load_named(o.palette, &s);
    else {
      dg_model_control_info ci;
      char why[256];
      s = dg_model_control_inspect(model, &mo, &ci);
      if (s == DG_OK) palette = dg_palette_for_control(&ci, why, sizeof why, &s);
      if (s == DG_OK) dg_model_control_info_clear(&ci);
    }
  }
  if (palette) {
    dg_palette_to_png(palette, &pal);
    names = dg_palette_class_names(palette);
    mo.class_names = names, mo.n_class_names = dg_palette_count(palette);
  }
  int w = o.width, h = o.height;
  if (s == DG_OK && o.layout) s = dg_cli_read_layout(o.layout, palette, 4096, &w, &h, &layout);
  if (!w) w = 256;
  if (!h) h = 128;
  if (!o.s.have_seed) o.s.seed = g_random_int() | (uint64_t)g_random_int() << 32;
  if (o.until < 0) o.until = (o.s.steps * 13 + 12) / 25;
  if (s == DG_OK) s = dg_device_open(NULL, &dev);
  if (s == DG_OK) s = dg_model_set_open(dev, model, &mo, &m);
  for (int i = 0; s == DG_OK && i < o.n_stages; i++) {
    char what[32];
    snprintf(what, sizeof what, "prompt of stage %d", i + 1);
    dg_cli_warn_cut("video generate", what, m, o.stages[i].prompt);
  }
  if (s == DG_OK) dg_cli_warn_cut("video generate", "negative prompt", m, o.negative);
  dg_tar tar;
  if (s == DG_OK && o.tar && !strcmp(o.tar, "none")) s = dg_tar_init(&tar, 0, NULL, NULL, 1.0f, o.until);
  else if (s == DG_OK && o.tar) s = parse_tar(o.tar, &tar, o.until);
  else if (s == DG_OK) s = dg_video_tar_default(m, w, o.frames, o.until, &tar);
  if (s == DG_OK && o.attention && !(probs = malloc((size_t)o.frames * o.frames * sizeof *probs)))
    s = dg_fail(DG_ERR_OOM, "out of memory for the attention matrix");
  if (s == DG_OK) s = dg_media_alloc(&media, o.frames, w, h, 3);
  double t0 = now();
  if (s == DG_OK) {
    dg_cli_video_catch_interrupt();
    uint8_t(*colors)[3] = palette ? pal.rgb : NULL;
    dg_video_params p = {.stages = o.stages, .n_stages = o.n_stages, .negative = o.negative, .frames = o.frames,
                         .fps = (float)o.eo.fps, .width = w, .height = h, .steps = o.s.steps, .cfg = (float)o.s.cfg,
                         .eta = 1.0f, .seed = o.s.seed, .vsp = o.vsp, .tar = &tar,
                         .capture_layer = o.attention ? o.attn_layer : -1, .capture_step = o.attn_step,
                         .capture = probs, .layout = layout, .palette = (const uint8_t(*)[3])colors,
                         .n_classes = palette ? pal.n_classes : 0, .control_scale = (float)o.s.control_scale,
                         .on_step = !o.s.quiet && isatty(2) ? on_step : NULL, .user = &t0};
    s = dg_video_generate(m, &p, dg_media_frame(&media, 0));
  }
  if (s == DG_OK && !o.s.quiet)
    printf("generated %d frames of %dx%d in %.1f s (seed %llu)\n", o.frames, w, h, now() - t0,
           (unsigned long long)o.s.seed);
  if (s == DG_OK && o.attention) s = write_attention(o.attention, probs, o.frames);
  if (s == DG_OK && o.attention) printf("wrote %s (temporal attention, %dx%d)\n", o.attention, o.frames, o.frames);
  rc = s == DG_OK ? 0 : 1;
  if (s != DG_OK) fprintf(stderr, "video generate: %s\n", dg_last_error());
  dg_model_set_close(m);
  dg_device_close(dev);
  if (s == DG_OK) {
    char *job = job_json(&o, model, w, h);
    o.eo.job_json = job;
    rc = dg_cli_video_write("video generate", o.out, o.format, &media, &o.eo);
    g_free(job);
  }
  dg_media_clear(&media);
  dg_palette_free(palette);
  free(names);
  free(layout);
  free(probs);
  g_free(model);
  g_free(tokenizer);
  return rc;
}
