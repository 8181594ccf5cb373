// `dirigent-cli model PATH [--tensors]`: open a checkpoint file, a diffusers folder or a Dirigent model
// folder (as `generate` reads it), validate it, and report its layout, the models detected with their
// configuration, and optionally every tensor.
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "dg_assets.h"
#include "dg_cli.h"
#include "dg_generate.h"
#include "dg_weights.h"

// One store: its layout, size, tokenizer, tensors (when asked) and detected models. 0 or 1.
static int report(const char *path, bool tensors) {
  dg_weights *w;
  if (dg_weights_open(path, &w) != DG_OK) {
    fprintf(stderr, "dirigent: %s\n", dg_last_error());
    return 1;
  }
  uint64_t bytes = 0;
  for (size_t i = 0; i < dg_weights_count(w); i++) {
    const dg_weight *t = dg_weights_at(w, i);
    bytes += (uint64_t)t->numel * dg_st_dtype_size(t->dtype);
  }
  printf("%s: %s, %zu tensors, %.1f MiB\n", path, dg_weights_layout(w), dg_weights_count(w), bytes / 1048576.0);
  if (dg_weights_tokenizer_dir(w)) printf("tokenizer: %s\n", dg_weights_tokenizer_dir(w));
  if (tensors)
    for (size_t i = 0; i < dg_weights_count(w); i++) {
      const dg_weight *t = dg_weights_at(w, i);
      char shape[128] = "";
      size_t used = 0;
      for (int d = 0; d < t->ndim && used < sizeof shape; d++)
        used += (size_t)snprintf(shape + used, sizeof shape - used, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
      printf("  %-72s %-5s [%s]%s%s\n", t->name, dg_st_dtype_name(t->dtype), shape,
             strcmp(t->name, t->source_name) ? "  <- " : "", strcmp(t->name, t->source_name) ? t->source_name : "");
    }
  dg_model_info info;
  dg_status s = dg_weights_detect(w, &info);
  if (s == DG_OK)
    printf("%s\n", info.description);
  else
    fprintf(stderr, "dirigent: %s\n", dg_last_error());
  dg_weights_close(w);
  return s == DG_OK ? 0 : 1;
}

static gint by_name(gconstpointer a, gconstpointer b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// A Dirigent model folder (text_encoder.safetensors, unet.safetensors, vae.safetensors,
// controlnet_NAME.safetensors; other files such as the evaluation models are listed only): checked as
// `generate` opens it (dg_model_set_check, configurations included), then each generation file reported.
static int report_folder(const char *dir, bool tensors) {
  char *tokenizer = dg_assets_path("tokenizer"), kind[256];
  dg_model_options o = {.default_tokenizer_dir = tokenizer};
  dg_status s = dg_model_set_check(dir, &o, kind, sizeof kind);
  g_free(tokenizer);
  if (s != DG_OK) {
    fprintf(stderr, "dirigent: %s\n", dg_last_error());
    return 1;
  }
  printf("%s: %s\n", dir, kind);
  GDir *d = g_dir_open(dir, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  for (const char *n; d && (n = g_dir_read_name(d));)
    if (g_str_has_suffix(n, ".safetensors")) g_ptr_array_add(names, g_strdup(n));
  if (d) g_dir_close(d);
  g_ptr_array_sort(names, by_name);
  int rc = 0;
  GString *other = g_string_new(NULL);
  static const char *const parts[] = {"text_encoder.safetensors", "unet.safetensors", "vae.safetensors"};
  for (guint i = 0; i < names->len; i++) {
    const char *n = g_ptr_array_index(names, i);
    bool part = g_str_has_prefix(n, "controlnet_");
    for (size_t k = 0; k < G_N_ELEMENTS(parts); k++)
      part |= !strcmp(n, parts[k]);
    if (!part) {
      g_string_append_printf(other, "%s%s", other->len ? ", " : "", n);
      continue;
    }
    char *path = g_build_filename(dir, n, NULL);
    rc |= report(path, tensors);
    g_free(path);
  }
  if (other->len) printf("other files (not read by generate): %s\n", other->str);
  g_string_free(other, TRUE);
  g_ptr_array_free(names, TRUE);
  return rc;
}

int dg_cli_model(int argc, char **argv) {
  const char *path = NULL;
  bool tensors = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help")) {
      printf("usage: dirigent-cli model PATH [--tensors]\n\nValidates a .safetensors checkpoint (LDM single file or "
             "component), a PyTorch checkpoint (.ckpt, .pt, .pth, .bin;\nits pickle is never run), a diffusers folder or a Dirigent\nmodel folder (as generate reads it), maps tensor names to "
             "LDM names and reports the detected models.\n"
             "  --tensors   also list every tensor: LDM name, dtype, shape, name in the file\n");
      return 0;
    }
    if (!strcmp(argv[i], "--tensors"))
      tensors = true;
    else if (argv[i][0] == '-' || path) {
      fprintf(stderr, "model: unexpected argument '%s' (see --help)\n", argv[i]);
      return 2;
    } else
      path = argv[i];
  }
  if (!path) {
    fprintf(stderr, "model: missing PATH (see --help)\n");
    return 2;
  }
  char *text = g_build_filename(path, "text_encoder.safetensors", NULL);
  bool folder = g_file_test(path, G_FILE_TEST_IS_DIR) && g_file_test(text, G_FILE_TEST_IS_REGULAR);
  g_free(text);
  return folder ? report_folder(path, tensors) : report(path, tensors);
}
