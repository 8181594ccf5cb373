// `dirigent-cli stylize`: the content of one image in the style of another (render/pipelines/dg_stylize:
// FDA on the engine's FFT, or the Masked Noise Encoder over its StyleGAN2 generator, by default
// assets/models/mne.safetensors and stylegan2.safetensors), written atomically as a PNG with a
// `dirigent-stylize` text chunk of the settings. `dirigent-cli spectrum`: an image's radial power
// spectrum as JSON, for the style panel.
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dg_cli.h"
#include "dg_assets.h"
#include "dg_image.h"
#include "dg_png.h"
#include "dg_stylize.h"
#include "dg_stylize_mne.h"

// Largest side read: the FFT plans and the device memory of a stylize grow with the pixels.
#define MAX_SIDE 8192

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

dg_status dg_cli_read_rgb(const char *path, dg_media *out) {
  *out = (dg_media){0};
  dg_png_limits lim = {.max_side = MAX_SIDE};
  uint8_t *rgb = NULL;
  int w = 0, h = 0;
  DG_TRY(dg_image_read(path, 3, &lim, &w, &h, &rgb));
  if (w < 2 || h < 2) {
    free(rgb);
    return dg_fail(DG_ERR_ARG, "%s is %dx%d: images need at least 2x2 pixels", path, w, h);
  }
  *out = (dg_media){.frames = 1, .width = w, .height = h, .channels = 3, .data = rgb};
  return DG_OK;
}

dg_status dg_cli_open_stylize(dg_device **dev, dg_stylize **st) {
  dg_device_options dopt = {0};
  DG_TRY(dg_device_open(&dopt, dev));
  return dg_stylize_create(*dev, st);
}

static void stylize_usage(FILE *f) {
  fprintf(f, "usage: dirigent-cli stylize --content A.png --style B.png [--style B2.png ...] --out C.png [options]\n\n"
             "  --method fda|mne  fda (default): Fourier domain adaptation, the low-frequency amplitude\n"
             "                    spectrum of the style image with the content's phase; mne: the Masked\n"
             "                    Noise Encoder: G(lerp(w_content, w_style, S), the content's noise maps),\n"
             "                    the ws of several --style images averaged (fda takes one)\n"
             "  --strength S      0 (the content) .. 1 (the style's amplitude or ws); default %g\n"
             "  --encoder E       mne: the encoder (default assets/models/mne.safetensors)\n"
             "  --generator G     mne: its StyleGAN2 generator (default assets/models/stylegan2.safetensors)\n"
             "  --beta B          FDA's window: half-size floor(min(H, W) B) frequencies, 0 .. %g; 0 leaves\n"
             "                    the content as it is; default %g\n"
             "  fda resizes the style image to the content's size, mne every image to the generator's\n"
             "  (and its result back). C.png gets the content's size.\n",
          DG_STYLIZE_DEFAULT_STRENGTH, DG_STYLIZE_MAX_BETA, DG_STYLIZE_DEFAULT_BETA);
}

int dg_cli_stylize_option(const char *cmd, const char *a, const char *v, dg_stylize_params *p) {
  if (!strcmp(a, "--encoder"))
    p->encoder = v;
  else if (!strcmp(a, "--generator"))
    p->generator = v;
  else if (!strcmp(a, "--method")) {
    if (!dg_stylize_method_parse(v, &p->method)) {
      fprintf(stderr, "%s: --method %s: expected fda or mne\n", cmd, v);
      return -1;
    }
  } else if (!strcmp(a, "--strength")) {
    if (!dg_cli_parse_double(v, 0.0, 1.0, &p->strength)) {
      fprintf(stderr, "%s: --strength %s: expected a number from 0 to 1\n", cmd, v);
      return -1;
    }
  } else if (!strcmp(a, "--beta")) {
    if (!dg_cli_parse_double(v, 0.0, DG_STYLIZE_MAX_BETA, &p->beta)) {
      fprintf(stderr, "%s: --beta %s: expected a number from 0 to %g\n", cmd, v, DG_STYLIZE_MAX_BETA);
      return -1;
    }
  } else
    return 0;
  return 1;
}

void dg_cli_stylize_models(dg_stylize_params *p, char **encoder, char **generator) {
  *encoder = p->method == DG_STYLIZE_MNE && !p->encoder ? dg_assets_path("models/mne.safetensors") : NULL;
  *generator = p->method == DG_STYLIZE_MNE && !p->generator ? dg_assets_path("models/stylegan2.safetensors") : NULL;
  if (*encoder) p->encoder = *encoder;
  if (*generator) p->generator = *generator;
}

int dg_cli_stylize(int argc, char **argv) {
  const char *content = NULL, *styles[DG_STYLIZE_MAX_STYLES], *out = NULL;
  int n_styles = 0;
  dg_stylize_params p = {DG_STYLIZE_FDA, DG_STYLIZE_DEFAULT_STRENGTH, DG_STYLIZE_DEFAULT_BETA, NULL, NULL};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help")) {
      stylize_usage(stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "stylize: %s needs a value (or is unknown)\n", a);
      return 2;
    }
    const char *v = argv[++i];
    int taken;
    if (!strcmp(a, "--content")) content = v;
    else if (!strcmp(a, "--style")) {
      if (n_styles == DG_STYLIZE_MAX_STYLES) {
        fprintf(stderr, "stylize: at most %d --style images\n", DG_STYLIZE_MAX_STYLES);
        return 2;
      }
      styles[n_styles++] = v;
    } else if ((taken = dg_cli_stylize_option("stylize", a, v, &p)) < 0)
      return 2;
    else if (taken)
      continue;
    else if (!strcmp(a, "--out")) out = v;
    else {
      fprintf(stderr, "stylize: bad option or value: %s %s\n", a, v);
      return 2;
    }
  }
  if (!content || !n_styles || !out) {
    fprintf(stderr, "stylize: --content, --style and --out are required\n");
    stylize_usage(stderr);
    return 2;
  }
  if (p.method == DG_STYLIZE_FDA && n_styles > 1) {
    fprintf(stderr, "stylize: fda takes one --style image (mne averages several)\n");
    return 2;
  }
  char *enc = NULL, *gen = NULL;
  dg_cli_stylize_models(&p, &enc, &gen);
  dg_media c = {0}, s[DG_STYLIZE_MAX_STYLES] = {0}, result = {0};
  const dg_media *sp[DG_STYLIZE_MAX_STYLES];
  dg_device *dev = NULL;
  dg_stylize *task = NULL;
  char *settings = NULL;
  dg_status st = dg_cli_read_rgb(content, &c);
  for (int i = 0; st == DG_OK && i < n_styles; i++) {
    st = dg_cli_read_rgb(styles[i], &s[i]);
    sp[i] = &s[i];
  }
  if (st == DG_OK) st = dg_cli_open_stylize(&dev, &task);
  double t0 = now();
  if (st == DG_OK) st = dg_stylize_run_styles(task, &c, sp, n_styles, &p, &result);
  double seconds = now() - t0;
  if (st == DG_OK) {
    settings = g_strdup_printf("{\"method\": \"%s\", \"strength\": %.9g, \"beta\": %.9g, \"styles\": %d}",
                               dg_stylize_method_name(p.method), p.strength, p.beta, n_styles);
    dg_png_text text = {"dirigent-stylize", settings};
    dg_png_write_opts o = {.texts = &text, .n_texts = 1};
    st = dg_png_write_atomic(out, result.width, result.height, result.data, 3, &o);
  }
  if (st == DG_OK)
    printf("wrote %s (%dx%d, %s, strength %g, beta %g, %d style%s, %.3f s)\n", out, result.width, result.height,
           dg_stylize_method_name(p.method), p.strength, p.beta, n_styles, n_styles > 1 ? "s" : "", seconds);
  else fprintf(stderr, "dirigent-cli stylize: %s\n", dg_last_error());
  g_free(settings);
  g_free(enc);
  g_free(gen);
  dg_stylize_destroy(task);
  dg_device_close(dev);
  dg_media_clear(&c);
  for (int i = 0; i < n_styles; i++)
    dg_media_clear(&s[i]);
  dg_media_clear(&result);
  return st == DG_OK ? 0 : 1;
}

static void spectrum_usage(FILE *f) {
  fprintf(f, "usage: dirigent-cli spectrum IMAGE.png --out SPECTRUM.json [--log]\n\n"
             "  The radial power spectrum of the image (RGB in 0..1): for each integer radius r up to\n"
             "  min(H, W) / 2, the mean of |X(k)|^2 / (H W) over the channels and the frequencies k with\n"
             "  round(|k|) = r. --log: log10 of it. JSON: {\"width\", \"height\", \"log\", \"power\": [...]},\n"
             "  power[r] for r = 0, 1, ...\n");
}

int dg_cli_spectrum(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  bool log = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help")) {
      spectrum_usage(stdout);
      return 0;
    }
    if (!strcmp(argv[i], "--log")) log = true;
    else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
    else if (argv[i][0] != '-' && !in) in = argv[i];
    else {
      fprintf(stderr, "spectrum: bad argument %s\n", argv[i]);
      return 2;
    }
  }
  if (!in || !out) {
    spectrum_usage(stderr);
    return 2;
  }
  dg_media img = {0};
  dg_device *dev = NULL;
  dg_stylize *task = NULL;
  dg_spectrum sp = {0};
  dg_status st = dg_cli_read_rgb(in, &img);
  if (st == DG_OK) st = dg_cli_open_stylize(&dev, &task);
  if (st == DG_OK) st = dg_stylize_spectrum(task, &img, log, &sp);
  if (st == DG_OK) {
    GString *j = g_string_new(NULL);
    g_string_append_printf(j, "{\"width\": %d, \"height\": %d, \"log\": %s, \"power\": [", img.width, img.height,
                           log ? "true" : "false");
    for (int r = 0; r < sp.bins; r++)
      g_string_append_printf(j, "%s%.9g", r ? ", " : "", sp.power[r]);
    g_string_append(j, "]}\n");
    GError *err = NULL;
    if (!g_file_set_contents(out, j->str, (gssize)j->len, &err)) { // atomic: a temporary file renamed
      st = dg_fail(DG_ERR_IO, "cannot write %s: %s", out, err->message);
      g_error_free(err);
    }
    g_string_free(j, TRUE);
  }
  if (st == DG_OK) printf("wrote %s (%d radii of %s, %dx%d)\n", out, sp.bins, in, img.width, img.height);
  else fprintf(stderr, "dirigent-cli spectrum: %s\n", dg_last_error());
  dg_spectrum_clear(&sp);
  dg_stylize_destroy(task);
  dg_device_close(dev);
  dg_media_clear(&img);
  return st == DG_OK ? 0 : 1;
}
