// `dirigent-cli model PATH [--tensors]`: open a checkpoint file or diffusers folder, validate it, and
// report its layout, the models detected with their configuration, and optionally every tensor.
#include <stdio.h>
#include <string.h>

#include "dg_cli.h"
#include "dg_weights.h"

int dg_cli_model(int argc, char **argv) {
  const char *path = NULL;
  bool tensors = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help")) {
      printf("usage: dirigent-cli model PATH [--tensors]\n\nValidates a .safetensors checkpoint (LDM single file or "
             "component) or a diffusers folder,\nmaps its tensor names to LDM names and reports the detected models.\n"
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
