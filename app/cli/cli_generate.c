// `dirigent-cli generate`: text-to-image, or layout-to-image with the model's ControlNet when --layout
// is given. Writes a PNG with an A1111-style `parameters` text chunk and a `dirigent` JSON chunk of
// the whole job (dg_generation_png).
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "dg_assets.h"
#include "dg_cli.h"
#include "dg_generate.h"
#include "dg_generation_png.h"
#include "dg_heatmaps.h"
#include "dg_memory.h"
#include "dg_palette.h"
#include "dg_palette_choice.h"
#include "dg_palette_convert.h"
#include "dg_png.h"
#include "dg_settings.h"

typedef struct options {
  const char *prompt, *negative, *layout, *control, *palette, *out, *heatmaps;
  char *marks; // --object / --bind items as a marks text (dg_marks.h), NULL for none
  int width, height;
  bool profile, suggest;
  dg_guidance_kind guidance; // --guidance
  dg_cli_sampling s;
} options;

static void usage(FILE *f) {
  fprintf(f, "usage: dirigent-cli generate --prompt TEXT --out OUT.png [options]\n\n"
             "  --prompt TEXT       what to generate\n"
             "  --negative TEXT     negative prompt (default empty)\n"
             "  --layout LABEL.png  layout map (class ids or palette colours): layout-to-image\n"
             "  --steps N           sampling steps (default 25)\n"
             "  --cfg X             classifier-free guidance scale (default 7.5)\n"
             "  --control-scale X   the layout ControlNet's residual scale (default 1, as trained)\n"
             "  --seed N            seed (default: random, printed)\n"
             "  --sampler ddim|plms (default ddim)\n" DG_CLI_DECODER_HELP
             "  --width W --height H  image size (default: the layout's, else 256x128)\n"
             "  --model DIR|FILE    Dirigent model folder, SD single file or diffusers folder\n"
             "                      (default: the embedded assets/models)\n"
             "  --control NAME      ControlNet of a model folder (default aldm) or a file\n"
             "  --palette P         the layout's classes: world, ade20k, cityscapes or a palette .json\n"
             "                      (default: the one the model's ControlNet implies); a colour-coded\n"
             "                      layout in another shipped palette is converted by class name\n"
             "  --object WORD       mark an object word (repeatable); WORD#n is its n-th occurrence\n"
             "  --bind ATTR:OBJECT  bind an attribute word to an object word (repeatable; ATTR#n, OBJECT#n);\n"
             "                      the attribute is its nearest occurrence before the object\n"
             "  --guidance none|attend-excite|divide-bind  attention guidance of the marked objects in the\n"
             "                      first steps: Attend-and-Excite, or Divide & Bind (which also binds the\n"
             "                      --bind attributes); without --object/--bind it marks the suggested words\n"
             "                      (as --suggest-marks prints). Default none\n"
             "  --suggest-marks     print the marks suggested for the prompt (class and colour words) and exit\n"
             "  --heatmaps STRIP.png  one tile per marked word (else per suggested word): its cross-attention\n"
             "                      map averaged over the steps, over the image\n"
             "  --f16               f16 weights and activations\n"
             "  --quiet             no progress bar\n"
             "  --profile           print GPU time per op and peak memory (also DIRIGENT_PROFILE=1)\n");
}

static int parse(int argc, char **argv, options *o) {
  *o = (options){.negative = "", .s = DG_CLI_SAMPLING_DEFAULTS};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    }
    if (dg_cli_sampling_flag(a, &o->s)) continue;
    if (!strcmp(a, "--profile")) { o->profile = true; continue; }
    if (!strcmp(a, "--suggest-marks")) { o->suggest = true; continue; }
    if (i + 1 >= argc) {
      fprintf(stderr, "generate: %s needs a value (or is unknown)\n", a);
      return 2;
    }
    const char *v = argv[++i];
    int took = dg_cli_sampling_option("generate", a, v, &o->s);
    if (took < 0) return 2;
    if (took) continue;
    if (!strcmp(a, "--prompt")) o->prompt = v;
    else if (!strcmp(a, "--negative")) o->negative = v;
    else if (!strcmp(a, "--layout")) o->layout = v;
    else if (!strcmp(a, "--control")) o->control = v;
    else if (!strcmp(a, "--palette")) o->palette = v;
    else if (!strcmp(a, "--out")) o->out = v;
    else if (!strcmp(a, "--heatmaps")) o->heatmaps = v;
    else if (!strcmp(a, "--guidance")) {
      if (!*v || dg_guidance_parse(v, &o->guidance) != DG_OK) { // "" would read as none
        fprintf(stderr, "generate: --guidance %s: expected none, attend-excite or divide-bind\n", v);
        return 2;
      }
    }
    else if (!strcmp(a, "--object") || !strcmp(a, "--bind")) {
      bool bind = !strcmp(a, "--bind");
      if (!*v || strchr(v, ',') || (bind != (strchr(v, ':') != NULL))) {
        fprintf(stderr, "generate: %s %s: expected %s\n", a, v, bind ? "ATTR:OBJECT" : "one WORD or WORD#n");
        return 2;
      }
      dg_marks_text_append(&o->marks, v);
    }
    else if (!strcmp(a, "--width") || !strcmp(a, "--height")) {
      if (!dg_cli_parse_side("generate", a, v, !strcmp(a, "--width") ? &o->width : &o->height)) return 2;
    } else {
      fprintf(stderr, "generate: bad option or value: %s %s\n", a, v);
      return 2;
    }
  }
  if (o->suggest && o->prompt) return -1;
  if (!o->prompt || !o->out) {
    fprintf(stderr, "generate: --prompt and --out are required\n");
    usage(stderr);
    return 2;
  }
  if (dg_settings_check_text("prompt", o->prompt) || dg_settings_check_text("negative prompt", o->negative)) {
    fprintf(stderr, "generate: %s\n", dg_last_error());
    return 2;
  }
  return -1; // go on
}

// The layout palette: --palette, else the one the model's ControlNet implies (dg_palette_choice).
static dg_palette *choose_palette(const options *o, const char *model, const dg_model_options *mo, dg_status *s) {
  if (o->palette) return dg_palette_load_named(o->palette, s);
  dg_model_control_info ci;
  if ((*s = dg_model_control_inspect(model, mo, &ci)) != DG_OK) return NULL;
  char why[256];
  dg_palette *p = dg_palette_for_control(&ci, why, sizeof why, s);
  if (p && ci.present && !o->s.quiet) printf("palette: %s (%s)\n", dg_palette_title(p), why);
  dg_model_control_info_clear(&ci);
  return p;
}

static void on_step(void *user, int step, int total, const uint8_t *rgb, int w, int h) {
  (void)rgb, (void)w, (void)h;
  const double *t0 = user;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double el = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec - *t0, left = el / (step + 1) * (total - step - 1);
  int done = 30 * (step + 1) / total;
  fprintf(stderr, "\r[%.*s%*s] %d/%d  %.1f s left ", done, "##############################", 30 - done, "", step + 1,
          total, left);
  if (step + 1 == total) fprintf(stderr, "\n");
}

// Where the time went: GPU time per op label (largest first) and the peak resident memory, which on a
// CPU device such as lavapipe includes every tensor.
static void print_profile(dg_model_set *m) {
  dg_stream_profile_print(dg_model_set_stream(m), stdout);
  struct rusage ru;
  if (!getrusage(RUSAGE_SELF, &ru)) printf("peak resident memory: %.1f MiB\n", ru.ru_maxrss / 1024.0);
}

typedef struct heat_ctx {
  dg_heatmaps maps;
  dg_status status;
} heat_ctx;

static int on_attn(void *user, int step, int total, const float *maps, int n, int mh, int mw) {
  (void)step, (void)total;
  heat_ctx *h = user;
  h->status = dg_heatmaps_add(&h->maps, maps, n, mh, mw);
  return h->status != DG_OK;
}

// The class names of the palette, for the suggestion.
static char *suggest(const dg_palette *pal, const char *prompt) {
  int n = dg_palette_count(pal);
  const char **names = g_new0(const char *, n + 1);
  for (int i = 0; i < n; i++)
    names[i] = dg_palette_class_at(pal, i)->name;
  char *text = dg_marks_suggest(prompt, names, n);
  g_free(names);
  return text;
}

// The suggestion, printed as a marks text and as the flags that give it.
static int print_suggestion(const options *o) {
  dg_status s;
  dg_palette *pal = dg_palette_load_default(&s);
  if (!pal) {
    fprintf(stderr, "dirigent-cli generate: %s\n", dg_last_error());
    return 1;
  }
  char *text = suggest(pal, o->prompt);
  printf("marks: %s\n", *text ? text : "(none)");
  gchar **items = g_strsplit(text, ", ", -1);
  GString *flags = g_string_new("");
  for (int i = 0; items[i]; i++)
    if (*items[i]) g_string_append_printf(flags, "%s%s %s", flags->len ? " " : "", strchr(items[i], ':') ? "--bind" : "--object", items[i]);
  printf("flags: %s\n", flags->str);
  g_string_free(flags, TRUE);
  g_strfreev(items);
  g_free(text);
  dg_palette_free(pal);
  return 0;
}

// --guidance without --object/--bind: the suggested marks (from the layout's palette, else the default
// one), printed; none suggested is an error.
static dg_status guidance_marks(options *o, const dg_palette *layout_palette) {
  dg_status s = DG_OK;
  dg_palette *own = layout_palette ? NULL : dg_palette_load_default(&s);
  const dg_palette *pal = layout_palette ? layout_palette : own;
  if (!pal) return s;
  int n = dg_palette_count(pal);
  const char **names = g_new0(const char *, n + 1);
  for (int i = 0; i < n; i++)
    names[i] = dg_palette_class_at(pal, i)->name;
  char *what = g_strdup_printf("--guidance %s", dg_guidance_name(o->guidance));
  bool suggested;
  s = dg_settings_guidance_marks(o->guidance, NULL, o->prompt, names, n, what, "--object WORD", &o->marks, &suggested);
  if (s == DG_OK) printf("guidance %s: marked the suggested words: %s\n", dg_guidance_name(o->guidance), o->marks);
  g_free(what);
  g_free(names);
  dg_palette_free(own);
  return s;
}

// Writes the heatmap strip and prints the tile order (no font for labels here).
static dg_status write_heatmaps(const options *o, dg_model_set *m, const dg_palette *pal, const heat_ctx *h,
                                const uint8_t *rgb, int w, int hgt) {
  char *text = o->marks ? g_strdup(o->marks) : suggest(pal, o->prompt);
  if (!*text) g_free(text), text = dg_marks_all_words(o->prompt);
  dg_marks *marks = g_new0(dg_marks, 1);
  dg_mark_ref refs[2 * DG_MARKS_MAX];
  uint8_t *strip = NULL;
  dg_status s = dg_generate_marks(m, o->prompt, text, marks);
  int n = s == DG_OK ? dg_heatmaps_refs(marks, refs, 2 * DG_MARKS_MAX) : 0;
  if (s == DG_OK) s = dg_heatmaps_strip(&h->maps, marks, refs, n, rgb, w, hgt, &strip);
  if (s == DG_OK) s = dg_png_write_rgb8(o->heatmaps, n * w, hgt, strip, NULL);
  if (s == DG_OK) {
    printf("wrote %s (%d tiles of %dx%d, %dx%d maps averaged over %d steps%s):", o->heatmaps, n, w, hgt, h->maps.mh,
           h->maps.mw, h->maps.steps, o->marks ? "" : ", suggested words");
    for (int i = 0; i < n; i++)
      printf(" %d %s", i + 1, refs[i].label);
    printf("\n");
  }
  free(strip);
  g_free(marks);
  g_free(text);
  return s;
}

int dg_cli_generate(int argc, char **argv) {
  options o;
  int rc = parse(argc, argv, &o);
  if (rc >= 0) return g_free(o.marks), rc;
  if (o.suggest) {
    rc = print_suggestion(&o);
    g_free(o.marks);
    return rc;
  }
  heat_ctx heat = {0};
  uint8_t *layout = NULL, *rgb = NULL;
  dg_palette *palette = NULL;
  dg_device *dev = NULL;
  dg_model_set *m = NULL;
  char *model = o.s.model ? g_strdup(o.s.model) : dg_assets_path("models");
  char *tokenizer = dg_assets_path("tokenizer");
  dg_png_palette pal;
  const char **names = NULL;
  dg_model_options mo = {.control = o.control, .default_tokenizer_dir = tokenizer, .dtype = o.s.f16 ? DG_F16 : DG_F32,
                         .image_only = true};
  // The output is checked before any work, so a bad path does not cost a generation.
  dg_status s = dg_settings_check_output("--out", o.out);
  if (s == DG_OK && (o.layout || o.palette)) palette = choose_palette(&o, model, &mo, &s);
  if (palette) {
    dg_palette_to_png(palette, &pal);
    names = dg_palette_class_names(palette); // for an ALDM ControlNet that stores no class table
    mo.class_names = names, mo.n_class_names = dg_palette_count(palette);
  }
  if (s == DG_OK && o.heatmaps) s = dg_settings_check_output("--heatmaps", o.heatmaps);
  if (s == DG_OK && o.heatmaps && !palette) { // the suggestion's class words
    palette = dg_palette_load_default(&s);
    if (palette) dg_palette_to_png(palette, &pal);
  }
  if (s == DG_OK && o.guidance != DG_GUIDANCE_NONE && !o.marks) s = guidance_marks(&o, palette);
  int w = o.width, h = o.height;
  if (s == DG_OK && o.layout) s = dg_cli_read_layout(o.layout, palette, DG_GENERATE_MAX_SIDE, &w, &h, &layout);
  if (!w) w = 256;
  if (!h) h = 128;
  if (!o.s.have_seed) o.s.seed = g_random_int() | (uint64_t)g_random_int() << 32;
  char *default_text = g_build_filename(model, "text_encoder.safetensors", NULL);
  if (s == DG_OK && !o.s.model && !g_file_test(default_text, G_FILE_TEST_EXISTS))
    s = dg_fail(DG_ERR_IO, "no embedded default model in %s yet (train it with tools/train/train_defaults.sh) "
                           "- pass --model DIR|FILE", model);
  g_free(default_text);
  dg_device_options dopt = {.timestamps = o.profile};
  if (s == DG_OK) s = dg_device_open(&dopt, &dev);
  if (s == DG_OK) s = dg_settings_check_size(model, &mo, dev, w, h); // before loading
  if (s == DG_OK) s = dg_model_set_open(dev, model, &mo, &m);
  if (s == DG_OK) {
    dg_cli_warn_cut("generate", "prompt", m, o.prompt);
    dg_cli_warn_cut("generate", "negative prompt", m, o.negative);
  }
  if (s == DG_OK) s = dg_cli_check_decoder(&o.s, m, model);
  if (s == DG_OK && !(rgb = dg_memory_alloc("the image", (size_t)w * h * 3))) s = DG_ERR_OOM;
  dg_marks *marks = NULL;
  if (s == DG_OK && o.marks) { // the words are checked before the generation, which guides by them
    marks = g_new0(dg_marks, 1);
    s = dg_generate_marks(m, o.prompt, o.marks, marks);
  }
  dg_guidance_stats gstats = {0};
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double t0 = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
  if (s == DG_OK) {
    uint8_t (*colors)[3] = palette ? pal.rgb : NULL;
    dg_generate_params p = {.prompt = o.prompt, .negative = o.negative, .width = w, .height = h, .steps = o.s.steps,
                            .cfg = (float)o.s.cfg, .control_scale = (float)o.s.control_scale, .seed = o.s.seed,
                            .sampler = !strcmp(o.s.sampler, "plms") ? DG_SAMPLER_PLMS : DG_SAMPLER_DDIM,
                            .layout = layout, .palette = (const uint8_t(*)[3])colors, .n_classes = palette ? pal.n_classes : 0,
                            .on_step = !o.s.quiet && isatty(2) ? on_step : NULL, .user = &t0,
                            .on_attn = o.heatmaps ? on_attn : NULL, .attn_user = &heat,
                            .guidance = o.guidance, .marks = marks, .guidance_stats = &gstats,
                            .fast_decode = o.s.tiny_decoder};
    s = dg_generate(m, &p, rgb);
    if (s == DG_ERR_CANCELLED && heat.status != DG_OK) s = heat.status;
    if (s == DG_OK && o.guidance != DG_GUIDANCE_NONE)
      printf("guidance %s: %d updates (%d refinement), %.2f s\n", dg_guidance_name(o.guidance), gstats.updates,
             gstats.refinement_updates, gstats.seconds);
  }
  if (s == DG_OK) {
    dg_generation_info info = {.prompt = (char *)o.prompt, .negative = (char *)o.negative,
                               .sampler = !strcmp(o.s.sampler, "plms") ? "PLMS" : "DDIM", .model = model,
                               .layout = (char *)(o.layout ? o.layout : ""), .steps = o.s.steps, .width = w,
                               .height = h, .cfg = o.s.cfg, .control_scale = o.s.control_scale, .seed = o.s.seed,
                               .marks = o.marks, .guidance = o.guidance};
    s = dg_generation_png_write(o.out, rgb, 3, &info);
  }
  if (s == DG_OK && o.heatmaps) s = write_heatmaps(&o, m, palette, &heat, rgb, w, h);
  clock_gettime(CLOCK_MONOTONIC, &ts);
  if (s == DG_OK)
    printf("wrote %s (%dx%d, seed %llu, %.1f s)\n", o.out, w, h, (unsigned long long)o.s.seed,
           (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec - t0);
  else fprintf(stderr, "dirigent-cli generate: %s\n", dg_last_error());
  if (s == DG_OK && dev && dg_device_get_info(dev)->timestamps) print_profile(m);
  dg_model_set_close(m);
  dg_device_close(dev);
  dg_palette_free(palette);
  free(names);
  free(layout);
  free(rgb);
  g_free(model);
  g_free(tokenizer);
  g_free(o.marks);
  g_free(marks);
  dg_heatmaps_clear(&heat.maps);
  return s == DG_OK ? 0 : 1;
}
