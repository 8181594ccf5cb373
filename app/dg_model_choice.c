#include "dg_model_choice.h"

#include <glib.h>
#include <string.h>

#include "dg_assets.h"
#include "dg_generate.h"
#include "dg_settings.h"
#include "dg_unet3d.h"
#include "dg_weights.h"

bool dg_model_choice_is_default(const char *choice) { return !choice || !*choice || !strcmp(choice, DG_MODEL_DEFAULT); }

char *dg_model_default_path(void) {
  const char *env = g_getenv("DIRIGENT_MODEL");
  if (env && *env) return g_strdup(env);
  char *assets = dg_assets_path("models");
  char *text = g_build_filename(assets, "text_encoder.safetensors", NULL);
  bool present = g_file_test(text, G_FILE_TEST_IS_REGULAR);
  g_free(text);
  if (present) return assets;
  g_free(assets);
  return NULL;
}

char *dg_model_choice_path(const char *choice) {
  return dg_model_choice_is_default(choice) ? dg_model_default_path() : g_strdup(choice);
}

static char *base_name(const char *path) {
  char *trimmed = g_strdup(path);
  size_t n = strlen(trimmed);
  while (n > 1 && trimmed[n - 1] == G_DIR_SEPARATOR)
    trimmed[--n] = 0; // "models/" names "models"
  char *base = g_path_get_basename(trimmed);
  g_free(trimmed);
  static const char *const exts[] = {".safetensors", ".ckpt", ".pt", ".pth", ".bin"};
  for (size_t i = 0; i < G_N_ELEMENTS(exts); i++)
    if (g_str_has_suffix(base, exts[i]) && strlen(base) > strlen(exts[i])) {
      base[strlen(base) - strlen(exts[i])] = 0;
      break;
    }
  return base;
}

char *dg_model_choice_name(const char *choice) {
  if (!dg_model_choice_is_default(choice)) return base_name(choice);
  const char *env = g_getenv("DIRIGENT_MODEL");
  if (env && *env) {
    char *base = base_name(env), *name = g_strdup_printf("Default: %s", base);
    g_free(base);
    return name;
  }
  char *path = dg_model_default_path();
  char *name = g_strdup(path ? "Default (embedded)" : "Default (none installed)");
  g_free(path);
  return name;
}

dg_status dg_model_choice_check(const char *path, char *kind, size_t kind_size) {
  char *tokenizer = dg_assets_path("tokenizer");
  dg_model_options o = {.default_tokenizer_dir = tokenizer};
  dg_status s = dg_model_set_check(path, &o, kind, kind_size);
  g_free(tokenizer);
  return s;
}

dg_status dg_model_choice_check_size(const char *path, int width, int height) {
  char *tokenizer = dg_assets_path("tokenizer");
  // The size rule is the image UNet's and the VAE's: the video UNet is checked when a video job loads it.
  dg_model_options o = {.default_tokenizer_dir = tokenizer, .image_only = true};
  dg_status s = dg_settings_check_size(path, &o, NULL, width, height);
  g_free(tokenizer);
  return s;
}

int dg_model_choice_video_layers(const char *path) {
  char *file = path ? g_build_filename(path, "video_unet.safetensors", NULL) : NULL;
  dg_weights *w = NULL;
  int n = file && g_file_test(file, G_FILE_TEST_IS_REGULAR) && dg_weights_open(file, &w) == DG_OK
              ? dg_unet3d_count_temporal(w)
              : 0;
  if (w) dg_weights_close(w);
  g_free(file);
  return n;
}
