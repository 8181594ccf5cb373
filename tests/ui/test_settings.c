// The generation settings' rules the CLI and the editor share (app/dg_settings): seeds, steps, guidance, the
// layout ControlNet's scale, image sides and prompt texts refused with the rule stated; output paths checked
// before any work; the size rule of the tiny model of tests/pipeline read from its file headers.
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "dg_check.h"
#include "dg_document.h"
#include "dg_settings.h"

#define TINY DG_SOURCE_DIR "/tests/pipeline/tiny_model"

static void test_numbers(void) {
  uint64_t seed = 7;
  dg_check_status(dg_settings_parse_seed("--seed", "18446744073709551615", &seed), "the largest seed");
  dg_check(seed == UINT64_MAX, "seed %llu", (unsigned long long)seed);
  const char *bad_seeds[] = {"",   " -5", "-5", "-1", "+5", " 5", "5 ", "18446744073709551616", "99999999999999999999999",
                             "1e3", "0x10"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad_seeds); i++) {
    seed = 7;
    dg_check_error(dg_settings_parse_seed("--seed", bad_seeds[i], &seed), DG_ERR_ARG,
                   "a seed is a whole number from 0 to 18446744073709551615", bad_seeds[i]);
    dg_check(seed == 7, "seed '%s' left the value alone", bad_seeds[i]);
  }
  int n = 0;
  dg_check(dg_settings_parse_steps("--steps", "1000", &n) == DG_OK && n == 1000, "1000 steps");
  const char *bad_steps[] = {"0", "1001", "-3", " 5", "5x", "", "99999999999999999999"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad_steps); i++)
    dg_check_error(dg_settings_parse_steps("--steps", bad_steps[i], &n), DG_ERR_ARG, "from 1 to 1000", bad_steps[i]);
  dg_check_error(dg_settings_check_steps("steps", 0), DG_ERR_ARG, "from 1 to 1000", "0 steps (the document's rule)");
  double g = 0;
  dg_check(dg_settings_parse_guidance("--cfg", "7.5", &g) == DG_OK && g == 7.5, "guidance 7.5");
  const char *bad_cfg[] = {"-1", "100.5", "nan", "inf", "", " 7", "7,5"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad_cfg); i++)
    dg_check_error(dg_settings_parse_guidance("--cfg", bad_cfg[i], &g), DG_ERR_ARG, "from 0 to 100", bad_cfg[i]);
  // The layout ControlNet's scale: above 0, at most 4 (the CLI's --control-scale, the document's layout strength).
  double cs = 0;
  dg_check(dg_settings_parse_control_scale("--control-scale", "4", &cs) == DG_OK && cs == 4, "control scale 4");
  dg_check(dg_settings_parse_control_scale("--control-scale", "0.05", &cs) == DG_OK && cs == 0.05,
           "control scale 0.05");
  const char *bad_cs[] = {"0", "-1", "4.01", "nan", "inf", "", " 1", "1,5", "1x"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad_cs); i++) {
    cs = 3;
    dg_check_error(dg_settings_parse_control_scale("--control-scale", bad_cs[i], &cs), DG_ERR_ARG,
                   "the layout ControlNet's scale is a number above 0, at most 4", bad_cs[i]);
    dg_check(cs == 3, "control scale '%s' left the value alone", bad_cs[i]);
  }
  dg_check_status(dg_settings_check_control_scale("layout strength", 1), "control scale 1");
  dg_check_error(dg_settings_check_control_scale("layout strength", 0), DG_ERR_ARG, "layout strength 0: ", "0 refused");
  dg_check_error(dg_settings_check_control_scale("layout strength", 0.0 / 0.0), DG_ERR_ARG, "above 0, at most 4",
                 "NaN refused");
  dg_check(dg_settings_parse_side("--width", "4096", &n) == DG_OK && n == 4096, "side 4096");
  const char *bad_sides[] = {"0", "-8", "4097", "abc", "", " 64"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad_sides); i++)
    dg_check_error(dg_settings_parse_side("--width", bad_sides[i], &n), DG_ERR_ARG, "from 1 to 4096", bad_sides[i]);
  dg_check_error(dg_settings_check_text("negative prompt", "a\xff"), DG_ERR_ARG, "negative prompt is not valid UTF-8",
                 "the negative prompt named");
  dg_check_status(dg_settings_check_text("prompt", "a caf\xc3\xa9"), "UTF-8 text");

  // The document takes the same rules.
  dg_document *doc = dg_document_new(64, 64);
  dg_check_error(dg_document_set_steps(doc, 1001), DG_ERR_ARG, "from 1 to 1000", "the document's steps");
  dg_check_error(dg_document_set_guidance(doc, 101), DG_ERR_ARG, "from 0 to 100", "the document's guidance");
  dg_check_error(dg_document_set_control_scale(doc, 4.5), DG_ERR_ARG, "above 0, at most 4",
                 "the document's layout strength");
  dg_document_free(doc);
}

static void test_sizes(void) {
  dg_model_options o = {0};
  // The tiny model: a VAE of factor 2 and a UNet of 2 levels, so multiples of 4.
  dg_check_status(dg_settings_check_size(TINY, &o, NULL, 64, 32), "64x32");
  const int bad[][2] = {{6, 32}, {64, 2}, {0, 32}, {4100, 32}};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    char what[64];
    snprintf(what, sizeof what, "%dx%d", bad[i][0], bad[i][1]);
    dg_check_error(dg_settings_check_size(TINY, &o, NULL, bad[i][0], bad[i][1]), DG_ERR_ARG,
                   "width and height must be multiples of 4 from 4 to 4096", what);
  }
  dg_check_error(dg_settings_check_size("/nonexistent/model", &o, NULL, 64, 32), DG_ERR_IO, "/nonexistent/model",
                 "a missing model named");
  // The binding rule, as a device would give it: the largest square that fits is stated. What must fit
  // is one latent's transformer activations (32 channels at the tiny model's first level; the ops split
  // the rest, the batch that guidance doubles included), so with 1 MiB bindings 180x180 (90x90 latents)
  // is the largest square.
  dg_model_sizes sizes;
  dg_check_status(dg_model_set_check_sizes(TINY, &o, NULL, 0, &sizes), "the tiny model's sizes");
  dg_check(sizes.factor == 2 && sizes.multiple == 4, "factor %d, multiple %d", sizes.factor, sizes.multiple);
  dg_check_status(dg_model_sizes_check(&sizes, 1 << 20, DG_F32, 180, 180), "180x180 in a 1 MiB binding");
  dg_check_error(dg_model_sizes_check(&sizes, 1 << 20, DG_F32, 184, 184), DG_ERR_ARG, "at most 180x180",
                 "184x184 past a 1 MiB binding");
  dg_check_status(dg_model_sizes_check(&sizes, 1 << 20, DG_F16, 256, 256), "f16: half the bytes");
  dg_check_status(dg_model_sizes_check(&sizes, 0, DG_F32, 4096, 4096), "no device: no binding limit");
}

static void test_outputs(const char *tmp) {
  char *dir = g_build_filename(tmp, "adir", NULL), *file = g_build_filename(tmp, "x.png", NULL);
  char *missing = g_build_filename(tmp, "nowhere", "x.png", NULL), *under_file = g_build_filename(file, "y.png", NULL);
  g_mkdir(dir, 0700);
  dg_check_status(dg_settings_check_output("--out", file), "a new file in a writable folder");
  dg_check(!g_file_test(file, G_FILE_TEST_EXISTS), "the check leaves no file behind");
  dg_check_error(dg_settings_check_output("--out", ""), DG_ERR_ARG, "no file name given", "--out ''");
  dg_check_error(dg_settings_check_output("--out", dir), DG_ERR_ARG, "is a folder", "--out a folder");
  dg_check_error(dg_settings_check_output("--out", missing), DG_ERR_IO, "does not exist", "--out in a missing folder");
  g_file_set_contents(file, "x", 1, NULL);
  dg_check_error(dg_settings_check_output("--out", under_file), DG_ERR_IO, "does not exist", "--out under a file");
  dg_check_error(dg_settings_check_output_dir("--images", file), DG_ERR_IO, "cannot create", "--images a file");
  char *made = g_build_filename(tmp, "made", "deeper", NULL);
  dg_check_status(dg_settings_check_output_dir("--images", made), "--images created with its parents");
  dg_check(g_file_test(made, G_FILE_TEST_IS_DIR), "--images folder made");
  if (getuid() != 0) { // root writes anywhere
    g_chmod(dir, 0500);
    char *ro = g_build_filename(dir, "x.png", NULL);
    dg_check_error(dg_settings_check_output("--out", ro), DG_ERR_IO, "Permission denied", "--out in a read-only folder");
    g_chmod(dir, 0700);
    g_free(ro);
  }
  char *parent = g_path_get_dirname(made);
  g_rmdir(made), g_rmdir(parent), g_unlink(file), g_rmdir(dir);
  g_free(parent), g_free(made), g_free(dir), g_free(file), g_free(missing), g_free(under_file);
}

int main(void) {
  char *tmp = g_dir_make_tmp("dg_settings_XXXXXX", NULL);
  test_numbers();
  test_sizes();
  test_outputs(tmp);
  g_rmdir(tmp);
  g_free(tmp);
  return dg_check_finish("test_settings");
}
