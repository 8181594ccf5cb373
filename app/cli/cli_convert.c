// `dirigent-cli convert IN OUT.safetensors [--half]`: reads any model store dg_weights_open accepts (a
// .safetensors file, a PyTorch checkpoint .ckpt/.pt/.pth/.bin, a diffusers folder) and writes its
// tensors as one safetensors file with the LDM names (and LDM shapes), sorted by name, the metadata of
// the input copied. --half stores F32 and BF16 tensors as F16 (other dtypes are copied as they are). The file is written to a temporary name beside OUT and renamed over
// it once complete; the input (any of its files) is never overwritten.
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dg_cli.h"
#include "dg_weights.h"

static void usage(FILE *f) {
  fprintf(f, "usage: dirigent-cli convert IN OUT.safetensors [--half]\n\n"
             "Writes the tensors of IN (a .safetensors file, a PyTorch checkpoint .ckpt/.pt/.pth/.bin, or a\n"
             "diffusers folder) as one .safetensors file with LDM tensor names, copying the metadata.\n"
             "PyTorch checkpoints are read without running their pickles (only tensors and plain data).\n"
             "  --half   store F32 and BF16 tensors as F16\n");
}

static bool same_file(const struct stat *a, const char *path) {
  struct stat b;
  return stat(path, &b) == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

static void json_string(GString *s, const char *v) {
  g_string_append_c(s, '"');
  for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_printf(s, "\\%c", *p);
    else if (*p < 0x20)
      g_string_append_printf(s, "\\u%04x", *p);
    else
      g_string_append_c(s, (char)*p);
  }
  g_string_append_c(s, '"');
}

static int by_string(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static bool halved(const dg_weight *t, bool half) { return half && (t->dtype == DG_ST_F32 || t->dtype == DG_ST_BF16); }

static bool write_all(FILE *f, const void *data, size_t n) { return n == 0 || fwrite(data, 1, n, f) == n; }

// Writes the safetensors image to f; 0 on success, else a message is printed.
static int write_file(const dg_weights *w, bool half, FILE *f, const char *out) {
  GString *h = g_string_new("{");
  uint64_t offset = 0;
  size_t n = dg_weights_count(w);
  for (size_t i = 0; i < n; i++) {
    const dg_weight *t = dg_weights_at(w, i);
    dg_st_dtype dt = halved(t, half) ? DG_ST_F16 : t->dtype;
    uint64_t bytes = (uint64_t)t->numel * dg_st_dtype_size(dt);
    if (i) g_string_append_c(h, ',');
    json_string(h, t->name);
    g_string_append_printf(h, ":{\"dtype\":\"%s\",\"shape\":[", dg_st_dtype_name(dt));
    for (int d = 0; d < t->ndim; d++)
      g_string_append_printf(h, "%s%lld", d ? "," : "", (long long)t->shape[d]);
    g_string_append_printf(h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)offset,
                           (unsigned long long)(offset + bytes));
    offset += bytes;
  }
  size_t nmeta = dg_weights_metadata_count(w);
  if (nmeta) {
    g_string_append(h, n ? ",\"__metadata__\":{" : "\"__metadata__\":{");
    const char **keys = g_new0(const char *, nmeta);
    for (size_t i = 0; i < nmeta; i++) {
      const char *v;
      dg_weights_metadata_at(w, i, &keys[i], &v);
    }
    qsort(keys, nmeta, sizeof *keys, by_string); // the same file whatever order the input had
    for (size_t i = 0; i < nmeta; i++) {
      if (i) g_string_append_c(h, ',');
      json_string(h, keys[i]);
      g_string_append_c(h, ':');
      json_string(h, dg_weights_metadata(w, keys[i]));
    }
    g_free(keys);
    g_string_append_c(h, '}');
  }
  g_string_append_c(h, '}');
  while (h->len % 8)
    g_string_append_c(h, ' ');
  uint64_t len = h->len;
  bool ok = write_all(f, &len, 8) && write_all(f, h->str, h->len);
  g_string_free(h, TRUE);
  for (size_t i = 0; ok && i < n; i++) {
    const dg_weight *t = dg_weights_at(w, i);
    if (!halved(t, half)) {
      ok = write_all(f, dg_weights_data(w, t), (size_t)t->numel * dg_st_dtype_size(t->dtype));
      continue;
    }
    size_t bytes = (size_t)t->numel * 2;
    void *buf = malloc(bytes ? bytes : 1);
    if (!buf) {
      fprintf(stderr, "convert: out of memory for '%s'\n", t->name);
      return 1;
    }
    if (dg_weights_read(w, t, DG_F16, buf, bytes) != DG_OK) {
      fprintf(stderr, "convert: %s\n", dg_last_error());
      free(buf);
      return 1;
    }
    ok = write_all(f, buf, bytes);
    free(buf);
  }
  if (ok) ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
  if (!ok) {
    fprintf(stderr, "convert: cannot write %s: %s\n", out, strerror(errno));
    return 1;
  }
  return 0;
}

int dg_cli_convert(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  bool half = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help")) {
      usage(stdout);
      return 0;
    }
    if (!strcmp(argv[i], "--half"))
      half = true;
    else if (argv[i][0] == '-' || (in && out)) {
      fprintf(stderr, "convert: unexpected argument '%s' (see --help)\n", argv[i]);
      return 2;
    } else if (!in)
      in = argv[i];
    else
      out = argv[i];
  }
  if (!in || !out) {
    fprintf(stderr, "convert: needs IN and OUT.safetensors (see --help)\n");
    return 2;
  }
  if (!g_str_has_suffix(out, ".safetensors")) {
    fprintf(stderr, "convert: %s: the output must be a .safetensors file\n", out);
    return 2;
  }
  dg_weights *w;
  if (dg_weights_open(in, &w) != DG_OK) {
    fprintf(stderr, "convert: %s\n", dg_last_error());
    return 1;
  }
  // OUT must not be the input or one of its files (renaming over it would replace the data being read).
  struct stat ob;
  if (stat(out, &ob) == 0) {
    bool clash = same_file(&ob, in);
    for (size_t i = 0; !clash && i < dg_weights_count(w); i++)
      clash = same_file(&ob, dg_weights_at(w, i)->file);
    if (clash) {
      fprintf(stderr, "convert: %s is the input (or one of its files); refusing to overwrite it\n", out);
      dg_weights_close(w);
      return 1;
    }
  }
  char *dir = g_path_get_dirname(out), *base = g_path_get_basename(out);
  char *tmpl = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
  g_free(dir), g_free(base);
  int fd = g_mkstemp(tmpl);
  FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
  int rc = 1;
  if (!f) {
    fprintf(stderr, "convert: cannot create a file beside %s: %s\n", out, strerror(errno));
    if (fd >= 0) close(fd);
  } else {
    rc = write_file(w, half, f, out);
    if (fclose(f) != 0 && rc == 0) {
      fprintf(stderr, "convert: cannot write %s: %s\n", out, strerror(errno));
      rc = 1;
    }
    if (rc == 0 && (g_chmod(tmpl, 0644) != 0 || g_rename(tmpl, out) != 0)) {
      fprintf(stderr, "convert: cannot rename the finished file to %s: %s\n", out, strerror(errno));
      rc = 1;
    }
    if (rc != 0) g_unlink(tmpl);
  }
  if (rc == 0) {
    uint64_t bytes = 0;
    for (size_t i = 0; i < dg_weights_count(w); i++) {
      const dg_weight *t = dg_weights_at(w, i);
      bytes += (uint64_t)t->numel * (halved(t, half) ? 2 : dg_st_dtype_size(t->dtype));
    }
    printf("%s: %zu tensors (%s), %.1f MiB, LDM names%s\n", out, dg_weights_count(w), dg_weights_layout(w),
           bytes / 1048576.0, half ? ", F32/BF16 stored as F16" : "");
  }
  g_free(tmpl);
  dg_weights_close(w);
  return rc;
}
