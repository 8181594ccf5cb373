// The pieces of `dirigent-cli eval` that need no GPU: confusion matrix and IoU, the Jacobi
// eigen-decomposition, the PSD square root and the Frechet distance (against numpy values computed by
// another route: the eigenvalues of S1 S2), the colour-attribute check, and the dataset index reader.
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dg_check.h"
#include "dg_eval_attr.h"
#include "dg_eval_metrics.h"
#include "dg_png.h"
#include "dg_world_index.h"

static void test_iou(void) {
  // truth / prediction over 3 classes, with two ignored pixels and one id past k.
  const uint8_t truth[10] = {0, 0, 0, 1, 1, 255, 255, 2, 2, 7}, pred[10] = {0, 0, 1, 1, 1, 2, 2, 0, 0, 0};
  int64_t conf[9] = {0};
  dg_eval_confusion_add(conf, 3, truth, pred, 10, 255);
  double iou[3], miou, acc;
  dg_eval_iou(conf, 3, iou, &miou, &acc);
  // class 0: tp 2, truth 3, pred 4 -> 2/5; class 1: tp 2, truth 2, pred 3 -> 2/3; class 2: tp 0, truth 2 -> 0.
  dg_check(fabs(iou[0] - 0.4) < 1e-12 && fabs(iou[1] - 2 / 3.0) < 1e-12 && iou[2] == 0, "per-class IoU %g %g %g",
           iou[0], iou[1], iou[2]);
  dg_check(fabs(miou - (0.4 + 2 / 3.0) / 3) < 1e-12 && fabs(acc - 4 / 7.0) < 1e-12, "mIoU %g, accuracy %g", miou, acc);
  int64_t conf4[16] = {0};
  const uint8_t t2[2] = {0, 1}, p2[2] = {0, 1};
  dg_eval_confusion_add(conf4, 4, t2, p2, 2, 255);
  double iou4[4];
  dg_eval_iou(conf4, 4, iou4, &miou, &acc);
  dg_check(isnan(iou4[2]) && isnan(iou4[3]) && miou == 1 && acc == 1, "absent classes are NaN and left out of the mean");
  int64_t none[4] = {0};
  dg_eval_iou(none, 2, iou4, &miou, &acc);
  dg_check(isnan(miou) && isnan(acc), "no pixels: NaN");
}

static uint64_t lcg = 12345;
static double uniform(void) {
  lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(lcg >> 11) / 9007199254740992.0 * 2 - 1;
}

static void test_jacobi_sqrtm(void) {
  enum { N = 40, R = 10 };
  static double a[N * N], keep[N * N], w[N], v[N * N], b[N * R], s[N * N];
  for (int i = 0; i < N; i++)
    for (int j = 0; j <= i; j++)
      a[i * N + j] = a[j * N + i] = uniform();
  memcpy(keep, a, sizeof a);
  dg_eval_jacobi(a, N, w, v);
  double err = 0, orth = 0;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      double r = 0, o = 0;
      for (int k = 0; k < N; k++)
        r += v[i * N + k] * w[k] * v[j * N + k], o += v[k * N + i] * v[k * N + j];
      err = fmax(err, fabs(r - keep[i * N + j]));
      orth = fmax(orth, fabs(o - (i == j)));
    }
  dg_check(err < 1e-10 && orth < 1e-10, "jacobi: |V W V^T - A| %.2g, |V^T V - I| %.2g", err, orth);
  // A PSD matrix of rank R: sqrtm(A)^2 = A.
  for (int i = 0; i < N * R; i++)
    b[i] = uniform();
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      double t = 0;
      for (int k = 0; k < R; k++)
        t += b[i * R + k] * b[j * R + k];
      a[i * N + j] = t;
    }
  dg_check_status(dg_eval_sqrtm_psd(a, N, s), "sqrtm");
  err = 0;
  double scale = 0;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      double t = 0;
      for (int k = 0; k < N; k++)
        t += s[i * N + k] * s[k * N + j];
      err = fmax(err, fabs(t - a[i * N + j]));
      scale = fmax(scale, fabs(a[i * N + j]));
    }
  dg_check(err < 1e-8 * scale, "sqrtm of a rank-%d PSD matrix squares back (error %.2g of %.2g)", R, err, scale);
}

typedef float (*feature_fn)(int i, int j);
static float fa(int i, int j) { return (float)(sin(0.7 * i + 1.3 * j * j) + 0.1 * j); }
static float fb(int i, int j) { return (float)(cos(0.4 * i * j + 0.5) + 0.2); }
static float ra(int i, int j) { return (float)sin(i + 2.0 * j); }
static float rb(int i, int j) { return (float)cos(3.0 * i - j); }
static float shift(int i, int j) { return fa(i, j) + (j == 0 ? 2.0f : 0.0f); }

static double frechet(feature_fn f, int n, feature_fn g, int m, int d) {
  dg_eval_moments a, b;
  float x[16];
  dg_eval_moments_init(&a, d);
  dg_eval_moments_init(&b, d);
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < d; j++)
      x[j] = f(i, j);
    dg_eval_moments_add(&a, x);
  }
  for (int i = 0; i < m; i++) {
    for (int j = 0; j < d; j++)
      x[j] = g(i, j);
    dg_eval_moments_add(&b, x);
  }
  double r = NAN;
  dg_check_status(dg_eval_frechet(&a, &b, &r), "frechet");
  dg_eval_moments_free(&a);
  dg_eval_moments_free(&b);
  return r;
}

static void test_frechet(void) {
  // numpy: m1, m2 = means; S = np.cov(rowvar=False); |m1-m2|^2 + tr S1 + tr S2 - 2 sum sqrt(eigvals(S1 @ S2)).
  // Both sets are of low rank (sinusoids in i), so numpy's own value carries ~1e-8 of rounding noise.
  double full = frechet(fa, 7, fb, 9, 5), low = frechet(ra, 3, rb, 3, 8);
  dg_check(fabs(full - 3.0748569365544154) < 1e-6, "frechet 5-d, 7 vs 9 samples: %.12f", full);
  dg_check(fabs(low - 10.112726637991342) < 1e-6, "frechet 8-d from 3 samples each (rank 2): %.12f", low);
  double same = frechet(fa, 7, fa, 7, 5), moved = frechet(fa, 7, shift, 7, 5);
  dg_check(fabs(same) < 1e-9, "frechet of a set with itself: %.3g", same);
  // (the shifted floats are rounded again, which moves the covariance by ~1e-7)
  dg_check(fabs(moved - 4) < 1e-6, "frechet of a set and its copy shifted by 2: %.12f", moved);
  dg_eval_moments one, other;
  dg_eval_moments_init(&one, 2);
  dg_eval_moments_init(&other, 2);
  float x[2] = {1, 2};
  dg_eval_moments_add(&one, x);
  dg_eval_moments_add(&other, x);
  dg_eval_moments_add(&other, x);
  double r;
  dg_check_error(dg_eval_frechet(&one, &other, &r), DG_ERR_ARG, "2 samples", "one sample is refused");
  dg_eval_moments_free(&one);
  dg_eval_moments_free(&other);
}

// n pixels of colour rgb (plus a per-pixel wobble of +-2) labelled cls.
static void fill(uint8_t *rgb, uint8_t *label, int from, int to, const uint8_t c[3], int cls) {
  for (int i = from; i < to; i++) {
    for (int k = 0; k < 3; k++)
      rgb[3 * i + k] = (uint8_t)(c[k] + (i % 5) - 2);
    label[i] = (uint8_t)cls;
  }
}

static void test_attr(void) {
  enum { N = 100 };
  static const uint8_t blue[3] = {30, 50, 160}, red[3] = {170, 30, 25}, grey[3] = {120, 120, 120};
  uint8_t rgb[N * 3], label[N];
  dg_eval_colours c = {0};
  fill(rgb, label, 0, 40, blue, DG_WORLD_CAR), fill(rgb, label, 40, N, grey, DG_WORLD_ROAD);
  dg_eval_colours_add(&c, 1u << DG_ATTR_BLUE, rgb, label, N); // one blue car: counts
  fill(rgb, label, 0, 40, red, DG_WORLD_CAR);
  dg_eval_colours_add(&c, 1u << DG_ATTR_RED, rgb, label, N); // one red car: counts
  dg_eval_colours_add(&c, 1u << DG_ATTR_RED | 1u << DG_ATTR_BLUE, rgb, label, N); // mixed colours: skipped
  fill(rgb, label, 0, 40, grey, DG_WORLD_ROAD), fill(rgb, label, 0, 10, red, DG_WORLD_CAR);
  dg_eval_colours_add(&c, 1u << DG_ATTR_RED, rgb, label, N); // 10 car pixels: skipped
  dg_eval_colours_finish(&c);
  dg_check(c.images[DG_ATTR_BLUE] == 1 && c.images[DG_ATTR_RED] == 1 && c.images[DG_ATTR_GREEN] == 0,
           "centroids from single-colour images with enough car pixels");
  double mean_b = 0;
  for (int i = 0; i < 40; i++)
    mean_b += (blue[2] + (i % 5) - 2) / 127.5 - 1;
  dg_check(fabs(c.rgb[DG_ATTR_BLUE][2] - mean_b / 40) < 1e-12, "centroid = mean colour in [-1, 1]");
  // A generated image: 30 car pixels near blue, 70 near red.
  uint8_t cls[N];
  fill(rgb, cls, 0, 30, blue, DG_WORLD_CAR), fill(rgb, cls, 30, N, red, DG_WORLD_CAR);
  double sb = dg_eval_attr_share(&c, rgb, cls, N, DG_ATTR_BLUE), sr = dg_eval_attr_share(&c, rgb, cls, N, DG_ATTR_RED);
  dg_check(fabs(sb - 0.3) < 1e-12 && fabs(sr - 0.7) < 1e-12, "shares %g %g", sb, sr);
  dg_check(dg_eval_attr_pass(sb) && dg_eval_attr_pass(sr) && !dg_eval_attr_pass(0.19) && !dg_eval_attr_pass(-1),
           "a fifth of the car pixels passes");
  dg_check(dg_eval_attr_share(&c, rgb, cls, N, DG_ATTR_GREEN) < 0, "a colour without centroid fails");
  fill(rgb, cls, 19, N, grey, DG_WORLD_ROAD);
  dg_check(dg_eval_attr_share(&c, rgb, cls, N, DG_ATTR_BLUE) < 0, "19 car pixels: no car");
  dg_world_index_caption cap = {.n_roles = 3,
                                .roles = {{DG_WORLD_TREE, DG_ATTR_NONE, 3},
                                          {DG_WORLD_BUILDING, DG_ATTR_WHITE, 1},
                                          {DG_WORLD_CAR, DG_ATTR_GREEN, 1}}};
  dg_check(dg_eval_attr_wanted(&cap) == DG_ATTR_GREEN, "the caption's car colour");
  cap.n_roles = 2;
  dg_check(dg_eval_attr_wanted(&cap) == DG_ATTR_NONE, "no car colour: none");
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

static void test_index(void) {
  char *dir = g_dir_make_tmp("dg_eval_index_XXXXXX", NULL), *path = g_build_filename(dir, "index.jsonl", NULL);
  dg_world_index ix;
  dg_check_error(dg_world_index_load(dir, 0, &ix), DG_ERR_IO, "index.jsonl", "a missing index names the file");
  write_file(path,
             "{\"id\": \"test-0000000\", \"seed\": 2000000000, \"width\": 64, \"height\": 32, \"image\": "
             "\"images/a.png\", \"label\": \"labels/a.png\", \"captions\": [{\"text\": \"three trees\", \"kind\": "
             "\"count\", \"roles\": [{\"object\": [6, 11], \"attribute\": null, \"class\": \"tree\", \"attr\": null, "
             "\"count\": 3}]}, {\"text\": \"a blue car\", \"kind\": \"short\", \"roles\": [{\"object\": [7, 10], "
             "\"attribute\": [2, 6], \"class\": \"car\", \"attr\": \"blue\", \"count\": 1}]}]}\n\n"
             "{\"id\": \"test-0000001\", \"width\": 64, \"height\": 32, \"image\": \"images/b.png\", \"label\": "
             "\"labels/b.png\", \"captions\": []}\n");
  if (dg_check_status(dg_world_index_load(dir, 0, &ix), "read index")) {
    dg_check(ix.n == 2, "two entries (blank line skipped): %d", ix.n);
    const dg_world_index_entry *e = &ix.entries[0];
    char *img = g_build_filename(dir, "images/a.png", NULL);
    dg_check(!strcmp(e->id, "test-0000000") && !strcmp(e->image, img) && e->width == 64 && e->height == 32 &&
                 e->seed == 2000000000ull && e->n_captions == 2,
             "entry fields");
    const dg_world_index_caption *c = &e->captions[1];
    dg_check(!strcmp(c->text, "a blue car") && !strcmp(c->kind, "short") && c->n_roles == 1 &&
                 c->roles[0].cls == DG_WORLD_CAR && c->roles[0].attr == DG_ATTR_BLUE,
             "the second caption and its role");
    dg_check(e->captions[0].roles[0].cls == DG_WORLD_TREE && e->captions[0].roles[0].attr == DG_ATTR_NONE &&
                 e->captions[0].roles[0].count == 3,
             "a role without colour");
    dg_check(ix.entries[1].n_captions == 0 && !ix.entries[1].scene, "no captions, no scene");
    g_free(img);
    dg_world_index_free(&ix);
  }
  if (dg_check_status(dg_world_index_load(dir, 1, &ix), "read the first line")) {
    dg_check(ix.n == 1, "max 1 reads one entry");
    dg_world_index_free(&ix);
  }
  write_file(path, "{\"id\": \"x\", \"width\": 64, \"height\": 32, \"image\": \"a\", \"label\": \"b\", \"captions\": []}\n"
                   "{\"id\": \"y\", \"image\": \"a\"\n");
  dg_check_error(dg_world_index_load(dir, 0, &ix), DG_ERR_FORMAT, "index.jsonl:2", "a broken line is named");
  write_file(path, "{\"id\": \"x\", \"width\": 64, \"image\": \"a\", \"label\": \"b\", \"captions\": []}\n");
  dg_check_error(dg_world_index_load(dir, 0, &ix), DG_ERR_FORMAT, "height", "a missing field is named");
  // A line of only a comment, which json-glib parses to no root (found by tests/fuzz/fuzz_world_index):
  // an error, not a GLib critical.
  write_file(path, "////\n");
  GLogLevelFlags fatal = g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_FATAL_MASK);
  dg_check_error(dg_world_index_load(dir, 0, &ix), DG_ERR_FORMAT, "index.jsonl:1", "a comment line");
  g_log_set_always_fatal(fatal);

  // Hostile inputs: a line nested 200000 deep (json-glib overflowed its stack on it, in `eval` t2i and
  // l2i), a scene graph nested as deep, and a FIFO as the index (it blocked for ever).
  GString *deep = g_string_new("{\"id\": \"x\", \"width\": 64, \"height\": 32, \"image\": \"a\", \"label\": \"b\", "
                               "\"scene\": \"deep.json\", \"captions\": []}\n{\"x\": ");
  for (int i = 0; i < 200000; i++)
    g_string_append_c(deep, '[');
  write_file(path, deep->str);
  dg_check_error(dg_world_index_load(dir, 0, &ix), DG_ERR_FORMAT,
                 "index.jsonl:2: JSON nested deeper than the limit of 64 levels", "a deeply nested line");
  if (dg_check_status(dg_world_index_load(dir, 1, &ix), "the line before it")) {
    char *scene = g_build_filename(dir, "deep.json", NULL);
    write_file(scene, deep->str + strcspn(deep->str, "\n") + 1);
    unsigned colours;
    bool uncoloured;
    dg_check_error(dg_world_index_object_colours(&ix.entries[0], DG_WORLD_CAR, &colours, &uncoloured), DG_ERR_FORMAT,
                   "deep.json: JSON nested deeper", "a deeply nested scene graph");
    remove(scene);
    g_free(scene);
    dg_world_index_free(&ix);
  }
  g_string_free(deep, TRUE);
  remove(path);
  dg_check(mkfifo(path, 0600) == 0, "mkfifo index.jsonl");
  alarm(30); // a blocked open ends the test
  dg_check_error(dg_world_index_load(dir, 0, &ix), DG_ERR_IO, "index.jsonl: not a regular file (a FIFO)",
                 "a FIFO as the index");
  alarm(0);
  remove(path);
  remove(dir);
  g_free(path);
  g_free(dir);
}

// Centroids from a dataset on disk: scene graphs, images and label maps.
static void test_colours_dataset(void) {
  char *dir = g_dir_make_tmp("dg_eval_colours_XXXXXX", NULL);
  enum { W = 16, H = 8, N = W * H };
  uint8_t rgb[N * 3], label[N];
  static const uint8_t blue[3] = {30, 50, 160}, grey[3] = {120, 120, 120};
  fill(rgb, label, 0, N, grey, DG_WORLD_ROAD), fill(rgb, label, 0, 24, blue, DG_WORLD_CAR);
  char *paths[4] = {g_build_filename(dir, "a.png", NULL), g_build_filename(dir, "a_label.png", NULL),
                    g_build_filename(dir, "a.json", NULL), g_build_filename(dir, "b.json", NULL)};
  dg_check_status(dg_png_write_rgb8(paths[0], W, H, rgb, NULL), "write image");
  dg_check_status(dg_png_write_label(paths[1], W, H, label, dg_world_palette(), NULL), "write label");
  write_file(paths[2], "{\"objects\": [{\"class\": \"car\", \"attribute\": \"blue\"}, {\"class\": \"car\", "
                       "\"attribute\": \"blue\"}, {\"class\": \"building\", \"attribute\": \"red\"}]}");
  write_file(paths[3], "{\"objects\": [{\"class\": \"car\", \"attribute\": \"blue\"}, {\"class\": \"car\", "
                       "\"attribute\": \"red\"}]}");
  char *index = g_build_filename(dir, "index.jsonl", NULL);
  write_file(index, "{\"id\": \"a\", \"width\": 16, \"height\": 8, \"image\": \"a.png\", \"label\": \"a_label.png\", "
                    "\"scene\": \"a.json\", \"captions\": []}\n"
                    "{\"id\": \"b\", \"width\": 16, \"height\": 8, \"image\": \"missing.png\", \"label\": \"x.png\", "
                    "\"scene\": \"b.json\", \"captions\": []}\n");
  dg_world_index ix;
  if (dg_check_status(dg_world_index_load(dir, 0, &ix), "read colour index")) {
    unsigned colours;
    bool uncoloured;
    dg_check_status(dg_world_index_object_colours(&ix.entries[0], DG_WORLD_CAR, &colours, &uncoloured), "scene a");
    dg_check(colours == 1u << DG_ATTR_BLUE && !uncoloured, "scene a: blue cars only");
    dg_check_status(dg_world_index_object_colours(&ix.entries[0], DG_WORLD_BUILDING, &colours, &uncoloured), "a");
    dg_check(colours == 1u << DG_ATTR_RED, "scene a: a red building");
    dg_eval_colours c;
    // b mixes colours, so its (missing) image is never read.
    if (dg_check_status(dg_eval_colours_from_dataset(&ix, &c), "centroids from the dataset"))
      dg_check(c.images[DG_ATTR_BLUE] == 1 && c.images[DG_ATTR_RED] == 0 &&
                   fabs(c.rgb[DG_ATTR_BLUE][0] - (30 / 127.5 - 1)) < 0.02,
               "one blue centroid from image a");
    // An empty scene file (found by tests/fuzz/fuzz_world_index): an error, not a GLib critical.
    write_file(paths[3], "");
    GLogLevelFlags fatal = g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_FATAL_MASK);
    dg_check_error(dg_world_index_object_colours(&ix.entries[1], DG_WORLD_CAR, &colours, &uncoloured), DG_ERR_FORMAT,
                   "no JSON value", "an empty scene graph");
    g_log_set_always_fatal(fatal);
    dg_world_index_free(&ix);
  }
  for (int i = 0; i < 4; i++)
    remove(paths[i]), g_free(paths[i]);
  remove(index);
  g_free(index);
  remove(dir);
  g_free(dir);
}

int main(void) {
  test_iou();
  test_jacobi_sqrtm();
  test_frechet();
  test_attr();
  test_index();
  test_colours_dataset();
  return dg_check_finish("test_eval");
}
