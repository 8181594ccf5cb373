// `dirigent-cli augment`: a style-augmented copy of a labelled world image dataset (docs/world-format.md)
// for training segmenters. Each sample's image is stylized (render/pipelines/dg_stylize: the Masked Noise
// Encoder by default, or FDA) with an exemplar drawn from --styles by --seed, its label is copied byte for
// byte, and index.jsonl gets the sample's line with an "augment" member. Every input is checked before the
// first image is made, and the dataset is written into a temporary folder beside --out that is renamed at
// the end, so a failure or a refusal never leaves a partial dataset.
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dg_cli.h"
#include "dg_file.h"
#include "dg_json_glib.h"
#include "dg_png.h"
#include "dg_world_index.h"

#define CMD "augment"
#define MAX_LABEL_BYTES (64u << 20)

static void usage(FILE *f) {
  fprintf(f,
          "usage: dirigent-cli augment --data DIR --styles DIR --out DIR [options]\n\n"
          "Writes a copy of the world image dataset DIR (index.jsonl, images/, labels/) whose images are\n"
          "stylized with exemplars from --styles; labels are copied unchanged, so the copy trains\n"
          "segmenters on other looks with the same ground truth.\n\n"
          "  --styles DIR      the exemplars: a world dataset (its images) or a folder of PNGs\n"
          "  --out DIR         a new folder (refused when it exists); written under a temporary\n"
          "                    name beside it and renamed at the end\n"
          "  --method mne|fda  mne (default): the Masked Noise Encoder; fda: Fourier domain adaptation\n"
          "  --strength S      0 .. 1; default %g\n"
          "  --seed N          which exemplar each sample gets (default 0; the same seed, the same picks)\n"
          "  --count N         only the first N samples\n"
          "  --beta B, --encoder E, --generator G   as for `dirigent-cli stylize`\n",
          DG_STYLIZE_DEFAULT_STRENGTH);
}

typedef struct exemplars {
  GPtrArray *paths; // absolute or --styles-relative file names (owned)
  GPtrArray *names; // what the index records: the path relative to --styles
} exemplars;

static int compare_strings(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// --styles: a world dataset's images when DIR/index.jsonl exists, else the folder's PNG and JPEG files by name.
static dg_status find_exemplars(const char *dir, exemplars *ex) {
  ex->paths = g_ptr_array_new_with_free_func(g_free);
  ex->names = g_ptr_array_new_with_free_func(g_free);
  char *index = g_build_filename(dir, "index.jsonl", NULL);
  bool dataset = g_file_test(index, G_FILE_TEST_EXISTS);
  g_free(index);
  if (dataset) {
    dg_world_index ix;
    DG_TRY(dg_world_index_load(dir, 0, &ix));
    for (int i = 0; i < ix.n; i++) {
      g_ptr_array_add(ex->paths, g_strdup(ix.entries[i].image));
      g_ptr_array_add(ex->names, g_strdup(ix.entries[i].image + strlen(dir) + 1));
    }
    dg_world_index_free(&ix);
    return DG_OK;
  }
  GError *err = NULL;
  GDir *d = g_dir_open(dir, 0, &err);
  if (!d) {
    dg_status s = dg_fail(DG_ERR_IO, "--styles %s: %s", dir, err->message);
    g_error_free(err);
    return s;
  }
  for (const char *n; (n = g_dir_read_name(d));) {
    char *lower = g_ascii_strdown(n, -1);
    if (g_str_has_suffix(lower, ".png") || g_str_has_suffix(lower, ".jpg") || g_str_has_suffix(lower, ".jpeg"))
      g_ptr_array_add(ex->names, g_strdup(n));
    g_free(lower);
  }
  g_dir_close(d);
  g_ptr_array_sort(ex->names, compare_strings);
  for (guint i = 0; i < ex->names->len; i++)
    g_ptr_array_add(ex->paths, g_build_filename(dir, ex->names->pdata[i], NULL));
  if (!ex->names->len)
    return dg_fail(DG_ERR_ARG, "--styles %s: neither a world dataset (index.jsonl) nor a folder with PNG or JPEG files",
                    dir);
  return DG_OK;
}

// The exemplar of sample i: splitmix64 of (seed, i), so a sample's pick does not depend on --count.
static guint pick(uint64_t seed, int i, guint n) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (guint)((z ^ (z >> 31)) % n);
}

// A path inside the dataset: relative, without "..", so the copy's files stay inside --out.
static bool inside(const char *rel) {
  if (!rel || !*rel || g_path_is_absolute(rel)) return false;
  char **parts = g_strsplit(rel, "/", -1);
  bool ok = true;
  for (char **p = parts; *p; p++)
    ok = ok && strcmp(*p, "..") && strcmp(*p, "");
  g_strfreev(parts);
  return ok;
}

// The index lines of --data as JSON objects (the order and the blank-line rule of dg_world_index_load, which
// checked them first), each with relative image and label paths inside the dataset.
static dg_status read_lines(const char *dir, int count, GPtrArray *lines) {
  char *path = g_build_filename(dir, "index.jsonl", NULL);
  char *text = NULL;
  size_t len = 0;
  dg_status s = dg_file_read(path, 1u << 30, &text, &len);
  JsonParser *parser = json_parser_new();
  char **rows = s == DG_OK ? g_strsplit(text, "\n", -1) : NULL;
  for (int r = 0; rows && rows[r] && (int)lines->len < count && s == DG_OK; r++) {
    if (!g_strstrip(rows[r])[0]) continue;
    char *where = g_strdup_printf("%s:%d", path, r + 1);
    JsonNode *root = dg_json_glib_parse(parser, rows[r], strlen(rows[r]), where, DG_JSON_MAX_SMALL, &s);
    JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    if (o && (!inside(dg_json_member_string(o, "image")) || !inside(dg_json_member_string(o, "label"))))
      s = dg_fail(DG_ERR_FORMAT, "%s: image and label must be paths inside the dataset (relative, no \"..\")", where);
    else if (o)
      g_ptr_array_add(lines, json_node_copy(root));
    g_free(where);
  }
  g_strfreev(rows);
  g_object_unref(parser);
  free(text);
  g_free(path);
  return s;
}

// What was written into the temporary folder, removed again on failure (files first, then folders, deepest
// first).
typedef struct written {
  char *root;
  GPtrArray *files, *dirs;
} written;

static dg_status make_parent(written *w, const char *file) {
  char *dir = g_path_get_dirname(file);
  dg_status s = DG_OK;
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
    s = make_parent(w, dir);
    if (s == DG_OK && g_mkdir(dir, 0755) != 0) s = dg_fail(DG_ERR_IO, "cannot create %s: %s", dir, g_strerror(errno));
    if (s == DG_OK) g_ptr_array_add(w->dirs, g_strdup(dir));
  }
  g_free(dir);
  return s;
}

static void remove_written(written *w) {
  for (guint i = 0; i < w->files->len; i++)
    g_unlink(w->files->pdata[i]);
  for (guint i = w->dirs->len; i-- > 0;)
    g_rmdir(w->dirs->pdata[i]);
  g_rmdir(w->root);
}

static dg_status copy_file(written *w, const char *from, const char *to) {
  char *data = NULL;
  size_t len = 0;
  DG_TRY(dg_file_read(from, MAX_LABEL_BYTES, &data, &len));
  dg_status s = make_parent(w, to);
  GError *err = NULL;
  if (s == DG_OK && !g_file_set_contents(to, data, (gssize)len, &err)) {
    s = dg_fail(DG_ERR_IO, "cannot write %s: %s", to, err->message);
    g_error_free(err);
  }
  if (s == DG_OK) g_ptr_array_add(w->files, g_strdup(to));
  free(data);
  return s;
}

typedef struct augment {
  const char *data, *out;
  dg_stylize_params p;
  uint64_t seed;
  exemplars ex;
  GPtrArray *lines; // JsonNode objects
  dg_stylize *task;
} augment;

// Sample i: the stylized image and the copied label into w->root, and its line (with "augment") into index.
static dg_status augment_sample(augment *a, int i, written *w, GString *index) {
  JsonObject *o = json_node_get_object(a->lines->pdata[i]);
  const char *image = dg_json_member_string(o, "image"), *label = dg_json_member_string(o, "label");
  guint e = pick(a->seed, i, a->ex.paths->len);
  char *src = g_build_filename(a->data, image, NULL), *dst = g_build_filename(w->root, image, NULL);
  char *lsrc = g_build_filename(a->data, label, NULL), *ldst = g_build_filename(w->root, label, NULL);
  dg_media content = {0}, style = {0}, result = {0};
  dg_status s = dg_cli_read_rgb(src, &content);
  if (s == DG_OK) s = dg_cli_read_rgb(a->ex.paths->pdata[e], &style);
  if (s == DG_OK) s = dg_stylize_run(a->task, &content, &style, &a->p, &result);
  if (s == DG_OK) s = make_parent(w, dst);
  if (s == DG_OK) s = dg_png_write_rgb8(dst, result.width, result.height, result.data, NULL);
  if (s == DG_OK) g_ptr_array_add(w->files, g_strdup(dst));
  if (s == DG_OK) s = copy_file(w, lsrc, ldst);
  if (s == DG_OK) {
    // The scene graph is not copied (it describes the source image's look); the line says where it came from.
    json_object_remove_member(o, "scene");
    JsonObject *aug = json_object_new();
    json_object_set_string_member(aug, "source", src);
    json_object_set_string_member(aug, "exemplar", a->ex.names->pdata[e]);
    json_object_set_string_member(aug, "method", dg_stylize_method_name(a->p.method));
    json_object_set_double_member(aug, "strength", a->p.strength);
    json_object_set_object_member(o, "augment", aug);
    char *line = json_to_string(a->lines->pdata[i], FALSE);
    g_string_append_printf(index, "%s\n", line);
    g_free(line);
  } else
    s = dg_fail(s, "sample %d (%s): %s", i + 1, src, dg_last_error());
  dg_media_clear(&content), dg_media_clear(&style), dg_media_clear(&result);
  g_free(src), g_free(dst), g_free(lsrc), g_free(ldst);
  return s;
}

// Everything into a temporary folder beside --out, renamed to --out at the end.
static dg_status write_dataset(augment *a, int *done) {
  char *parent = g_path_get_dirname(a->out), *base = g_path_get_basename(a->out);
  char *tmpl = g_strdup_printf("%s/.%s.augment-XXXXXX", parent, base);
  g_free(parent), g_free(base);
  written w = {tmpl, g_ptr_array_new_with_free_func(g_free), g_ptr_array_new_with_free_func(g_free)};
  dg_status s = DG_OK;
  if (!g_mkdtemp_full(tmpl, 0755))
    s = dg_fail(DG_ERR_IO, "--out %s: cannot create a folder beside it: %s", a->out, g_strerror(errno));
  GString *index = g_string_new(NULL);
  double t0 = (double)g_get_monotonic_time() * 1e-6;
  for (int i = 0; s == DG_OK && i < (int)a->lines->len; i++) {
    s = augment_sample(a, i, &w, index);
    *done = i + 1;
    if (s == DG_OK && (i + 1) % 10 == 0)
      fprintf(stderr, "\r%s: %d / %u (%.2f images/s)", CMD, i + 1, a->lines->len,
              (i + 1) / ((double)g_get_monotonic_time() * 1e-6 - t0));
  }
  if (a->lines->len >= 10) fprintf(stderr, "\n");
  char *index_path = g_build_filename(tmpl, "index.jsonl", NULL);
  GError *err = NULL;
  if (s == DG_OK && !g_file_set_contents(index_path, index->str, (gssize)index->len, &err)) {
    s = dg_fail(DG_ERR_IO, "cannot write %s: %s", index_path, err->message);
    g_error_free(err);
  }
  if (s == DG_OK) g_ptr_array_add(w.files, g_strdup(index_path));
  if (s == DG_OK && g_rename(tmpl, a->out) != 0)
    s = dg_fail(DG_ERR_IO, "cannot rename %s to %s: %s", tmpl, a->out, g_strerror(errno));
  if (s != DG_OK) remove_written(&w);
  g_free(index_path);
  g_string_free(index, TRUE);
  g_ptr_array_free(w.files, TRUE), g_ptr_array_free(w.dirs, TRUE);
  g_free(tmpl);
  return s;
}

// A PNG's size from its header (the file mapped, nothing decoded); errors name the file.
static dg_status png_size(const char *path, int *w, int *h) {
  const void *data;
  size_t len;
  DG_TRY(dg_file_map(path, &data, &len));
  dg_status s = dg_png_read_size_mem(data, len, path, w, h);
  dg_file_unmap(data, len);
  return s;
}

// The checks before anything is written: --out new, its parent a folder, the index (its lines into a->lines)
// and every sample's files.
static dg_status check_inputs(augment *a, int count) {
  if (g_file_test(a->out, G_FILE_TEST_EXISTS))
    return dg_fail(DG_ERR_ARG, "--out %s exists (augment writes a new folder)", a->out);
  char *parent = g_path_get_dirname(a->out);
  bool parent_ok = g_file_test(parent, G_FILE_TEST_IS_DIR);
  dg_status s = parent_ok ? DG_OK : dg_fail(DG_ERR_ARG, "--out %s: %s is not a folder", a->out, parent);
  g_free(parent);
  DG_TRY(s);
  dg_world_index ix;
  DG_TRY(dg_world_index_load(a->data, count, &ix));
  s = read_lines(a->data, count ? count : G_MAXINT, a->lines); // the paths stay inside the dataset
  if (s == DG_OK && (int)a->lines->len != ix.n)
    s = dg_fail(DG_ERR_FORMAT, "--data %s: index.jsonl changed while it was read", a->data);
  for (int i = 0; s == DG_OK && i < ix.n; i++) {
    const dg_world_index_entry *e = &ix.entries[i];
    const char *files[2] = {e->image, e->label};
    for (int k = 0; k < 2 && s == DG_OK; k++) {
      int w = 0, h = 0;
      if (!g_file_test(files[k], G_FILE_TEST_IS_REGULAR))
        s = dg_fail(DG_ERR_ARG, "--data %s: sample %s: %s is missing or not a file", a->data, e->id, files[k]);
      else if (png_size(files[k], &w, &h) != DG_OK)
        s = dg_fail(DG_ERR_FORMAT, "--data %s: sample %s: %s", a->data, e->id, dg_last_error());
      else if (w != e->width || h != e->height)
        s = dg_fail(DG_ERR_FORMAT, "--data %s: sample %s: %s is %dx%d, the index says %dx%d", a->data, e->id,
                    files[k], w, h, e->width, e->height);
    }
  }
  dg_world_index_free(&ix);
  return s;
}

// Every exemplar a PNG of at least 2x2 (from its header).
static dg_status check_exemplars(const exemplars *ex) {
  for (guint i = 0; i < ex->paths->len; i++) {
    int w = 0, h = 0;
    DG_TRY(png_size(ex->paths->pdata[i], &w, &h) == DG_OK
               ? DG_OK
               : dg_fail(DG_ERR_FORMAT, "--styles: exemplar %s", dg_last_error()));
    if (w < 2 || h < 2)
      return dg_fail(DG_ERR_FORMAT, "--styles: exemplar %s is %dx%d, smaller than 2x2", (char *)ex->paths->pdata[i],
                     w, h);
  }
  return DG_OK;
}

int dg_cli_augment(int argc, char **argv) {
  augment a = {.p = {DG_STYLIZE_MNE, DG_STYLIZE_DEFAULT_STRENGTH, DG_STYLIZE_DEFAULT_BETA, NULL, NULL}};
  const char *styles = NULL;
  long count = 0;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    if (!strcmp(o, "--help")) {
      usage(stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "%s: %s needs a value (or is unknown)\n", CMD, o);
      return 2;
    }
    const char *v = argv[++i];
    int taken;
    if (!strcmp(o, "--data"))
      a.data = v;
    else if (!strcmp(o, "--styles"))
      styles = v;
    else if (!strcmp(o, "--out"))
      a.out = v;
    else if (!strcmp(o, "--seed")) {
      if (!dg_cli_parse_seed(CMD, v, &a.seed)) return 2;
    } else if (!strcmp(o, "--count")) {
      if (!dg_cli_parse_long(v, 1, 100000000, &count)) {
        fprintf(stderr, "%s: --count %s: expected a whole number of samples, at least 1\n", CMD, v);
        return 2;
      }
    } else if ((taken = dg_cli_stylize_option(CMD, o, v, &a.p)) < 0)
      return 2;
    else if (!taken) {
      fprintf(stderr, "%s: unknown option %s\n", CMD, o);
      return 2;
    }
  }
  if (!a.data || !styles || !a.out) {
    fprintf(stderr, "%s: --data, --styles and --out are required\n", CMD);
    usage(stderr);
    return 2;
  }
  char *enc = NULL, *gen = NULL;
  dg_cli_stylize_models(&a.p, &enc, &gen);
  a.lines = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
  dg_device *dev = NULL;
  int done = 0;
  double t0 = (double)g_get_monotonic_time() * 1e-6;
  dg_status s = check_inputs(&a, (int)count);
  if (s == DG_OK) s = find_exemplars(styles, &a.ex);
  if (s == DG_OK) s = check_exemplars(&a.ex);
  if (s == DG_OK) s = dg_cli_open_stylize(&dev, &a.task);
  if (s == DG_OK) s = write_dataset(&a, &done);
  double seconds = (double)g_get_monotonic_time() * 1e-6 - t0;
  if (s == DG_OK)
    printf("wrote %s: %u samples (%s, strength %g, %u exemplars, seed %llu) in %.1f s, %.2f images/s\n", a.out,
           a.lines->len, dg_stylize_method_name(a.p.method), a.p.strength, a.ex.paths->len, (unsigned long long)a.seed,
           seconds, a.lines->len / seconds);
  else
    fprintf(stderr, "dirigent-cli %s: %s (nothing written)\n", CMD, dg_last_error());
  dg_stylize_destroy(a.task);
  dg_device_close(dev);
  g_ptr_array_free(a.lines, TRUE);
  if (a.ex.paths) g_ptr_array_free(a.ex.paths, TRUE), g_ptr_array_free(a.ex.names, TRUE);
  g_free(enc), g_free(gen);
  return s == DG_OK ? 0 : 1;
}
