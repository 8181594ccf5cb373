// The pieces of `dirigent-cli eval marks` that need no GPU: the prompt sets (sizes, the world's words only,
// marks texts that resolve against their prompts with the shipped tokenizer, the same every run), the
// judging of synthetic label maps and images (objects present or not at the threshold, repeated objects as
// regions, colour bindings right, wrong, merged and swapped), and the bootstrap interval.
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_check.h"
#include "dg_eval_marks.h"
#include "dg_eval_metrics.h"
#include "dg_marks.h"
#include "dg_tokenizer.h"

// Every word the world's captions use (app/world/dg_world_caption.c) that the sets may take.
static const char *const world_words[] = {
    "a",     "and",   "car",     "person", "tree",   "street", "lamp",   "traffic", "sign", "building", "fence",
    "red",   "blue",  "white",   "black",  "yellow", "green",  "grey",   "brown",   "next", "to",       "on",
    "along", "with",  "in",      "at",     "sunset", "night",  "during", "the",     "day",  "sunny",    "foggy",
    "rainy", "snowy", "country", "road",   "summer", "autumn", "winter", NULL};

static bool world_word(const char *w) {
  for (int k = 0; world_words[k]; k++)
    if (!strcmp(w, world_words[k])) return true;
  return false;
}

static void test_sets(const dg_tokenizer *tok) {
  static dg_eval_marks_prompt a[DG_EVAL_MARKS_SET_SIZE], b[DG_EVAL_MARKS_SET_SIZE];
  // The first prompt of each set, so a change of the sets shows.
  static const char *const first[DG_EVAL_MARKS_SET_COUNT][2] = {
      {"a person and a building", "person, building"},
      {"a yellow car next to a white building", "yellow:car, white:building"},
      {"a building along a rainy country road", "building"},
  };
  for (int set = 0; set < DG_EVAL_MARKS_SET_COUNT; set++) {
    const char *name = dg_eval_marks_set_names[set];
    int n = dg_eval_marks_prompts((dg_eval_marks_set)set, a);
    dg_check(n == DG_EVAL_MARKS_SET_SIZE && n >= 100, "%s: %d prompts", name, n);
    dg_check(dg_eval_marks_prompts((dg_eval_marks_set)set, b) == n && !memcmp(a, b, sizeof a), "%s: deterministic",
             name);
    dg_check(!strcmp(a[0].prompt, first[set][0]) && !strcmp(a[0].marks, first[set][1]), "%s: first prompt '%s' / '%s'",
             name, a[0].prompt, a[0].marks);
    int resolved = 0, unique = 1, words_ok = 1, shape_ok = 1, pairs = 0, triples = 0;
    for (int i = 0; i < n; i++) {
      const dg_eval_marks_prompt *p = &a[i];
      for (int j = 0; j < i; j++)
        unique &= strcmp(a[j].prompt, p->prompt) != 0;
      gchar **words = g_strsplit_set(p->prompt, " ,", -1);
      for (int w = 0; words[w]; w++)
        if (*words[w] && !world_word(words[w])) {
          words_ok = 0;
          fprintf(stderr, "%s: '%s' is not a world caption word (%s)\n", name, words[w], p->prompt);
        }
      g_strfreev(words);
      dg_marks m;
      int n_attrs = 0;
      for (int q = 0; q < p->n_objects; q++)
        n_attrs += p->objects[q].attr != DG_ATTR_NONE;
      if (dg_marks_resolve(tok, p->prompt, 77, p->marks, &m) == DG_OK && m.n_objects == p->n_objects &&
          m.n_attrs == n_attrs)
        resolved++;
      else
        fprintf(stderr, "%s: marks '%s' of '%s' do not resolve: %s\n", name, p->marks, p->prompt, dg_last_error());
      if (set == DG_EVAL_MARKS_MULTI) {
        pairs += p->n_objects == 2, triples += p->n_objects == 3;
        shape_ok &= n_attrs == 0 && (p->n_objects == 2 || p->n_objects == 3);
      } else if (set == DG_EVAL_MARKS_COLOUR) {
        shape_ok &= p->n_objects == 2 && n_attrs == 2 && p->objects[0].cls == DG_WORLD_CAR &&
                    p->objects[0].attr != p->objects[1].attr;
      } else {
        shape_ok &= p->n_objects == 1 && n_attrs == 0;
      }
    }
    dg_check(resolved == n, "%s: %d of %d marks texts resolve with the shipped tokenizer", name, resolved, n);
    dg_check(unique, "%s: prompts are distinct", name);
    dg_check(words_ok, "%s: only the world's caption words", name);
    dg_check(shape_ok, "%s: objects and colours as the set defines them", name);
    if (set == DG_EVAL_MARKS_MULTI)
      dg_check(pairs >= 30 && triples >= 30, "multi: %d pairs, %d triples", pairs, triples);
  }
  dg_eval_marks_set s;
  dg_check(dg_eval_marks_set_parse("colour", &s) == DG_OK && s == DG_EVAL_MARKS_COLOUR, "set names parse");
  dg_check_error(dg_eval_marks_set_parse("color", &s), DG_ERR_ARG, "'color'", "unknown set");
}

enum { W = 40, H = 25, N = W * H };

static void fill(uint8_t *cls, uint8_t *rgb, int x0, int y0, int w, int h, int c, const uint8_t col[3]) {
  for (int y = y0; y < y0 + h; y++)
    for (int x = x0; x < x0 + w; x++) {
      cls[y * W + x] = (uint8_t)c;
      if (rgb) memcpy(rgb + 3 * (y * W + x), col, 3);
    }
}

static dg_eval_marks_prompt prompt_of(const char *text, int n, const int *cls, const int *attr) {
  dg_eval_marks_prompt p = {0};
  snprintf(p.prompt, sizeof p.prompt, "%s", text);
  for (int k = 0; k < n; k++) {
    int occ = 1;
    for (int j = 0; j < k; j++)
      occ += cls[j] == cls[k];
    p.objects[p.n_objects++] = (dg_eval_marks_object){cls[k], attr[k], occ, "x", "x"};
  }
  return p;
}

static void test_present(void) {
  static uint8_t cls[N], rgb[3 * N];
  const uint8_t grey[3] = {128, 128, 128};
  int64_t thr = dg_eval_marks_present_pixels(W, H);
  dg_check(thr == DG_EVAL_MARKS_MIN_PIXELS, "a 40x25 image: the floor of %d pixels (got %lld)",
           DG_EVAL_MARKS_MIN_PIXELS, (long long)thr);
  dg_check(dg_eval_marks_present_pixels(256, 128) == 33, "256x128: 0.1%% is 33 pixels");
  dg_eval_colours none = {0};
  dg_eval_marks_judgement j;
  const int two[2] = {DG_WORLD_PERSON, DG_WORLD_TREE}, no_attr[2] = {DG_ATTR_NONE, DG_ATTR_NONE};
  dg_eval_marks_prompt p = prompt_of("a person and a tree", 2, two, no_attr);
  memset(cls, DG_WORLD_ROAD, N);
  fill(cls, NULL, 2, 2, 2, 4, DG_WORLD_PERSON, grey); // 8 pixels: at the threshold
  fill(cls, NULL, 20, 2, 7, 1, DG_WORLD_TREE, grey);  // 7 pixels: under it
  dg_check_status(dg_eval_marks_judge(&p, &none, rgb, cls, W, H, &j), "judge");
  dg_check(j.present[0] && !j.present[1] && !j.all_present && j.pixels[0] == 8 && j.pixels[1] == 7,
           "8 pixels present, 7 not (%d %d, %lld %lld)", j.present[0], j.present[1], (long long)j.pixels[0],
           (long long)j.pixels[1]);
  dg_check(j.binding == -1 && j.found == -1 && j.bindings == 0, "no colour: no binding judged");
  fill(cls, NULL, 30, 10, 4, 1, DG_WORLD_TREE, grey); // two pieces of the tree: 7 + 4 pixels together
  dg_check_status(dg_eval_marks_judge(&p, &none, rgb, cls, W, H, &j), "judge");
  dg_check(j.present[1] && j.all_present, "a first object counts its class's pixels, all regions together");

  // Repeated objects: "a car and a car" needs two regions of the threshold.
  const int cars[2] = {DG_WORLD_CAR, DG_WORLD_CAR};
  p = prompt_of("a car and a car", 2, cars, no_attr);
  memset(cls, DG_WORLD_ROAD, N);
  fill(cls, NULL, 2, 2, 4, 3, DG_WORLD_CAR, grey);
  fill(cls, NULL, 6, 2, 4, 3, DG_WORLD_CAR, grey); // touching the first: one region
  dg_check_status(dg_eval_marks_judge(&p, &none, rgb, cls, W, H, &j), "judge");
  dg_check(j.present[0] && !j.present[1] && j.regions[1] == 1, "two touching cars are one region: car#2 absent");
  fill(cls, NULL, 6, 2, 1, 3, DG_WORLD_ROAD, grey); // a gap
  dg_check_status(dg_eval_marks_judge(&p, &none, rgb, cls, W, H, &j), "judge");
  dg_check(j.present[0] && j.present[1] && j.all_present && j.regions[1] == 2, "separate cars: both present");
  fill(cls, NULL, 30, 20, 2, 2, DG_WORLD_CAR, grey); // a 4-pixel speck is no region
  int32_t region[N];
  int64_t sizes[4];
  int nr = dg_eval_marks_regions(cls, W, H, DG_WORLD_CAR, 8, region, sizes, 4);
  dg_check(nr == 2 && sizes[0] == 12 && sizes[1] == 9 && region[2 * W + 2] == 0 && region[2 * W + 7] == 1 &&
               region[20 * W + 30] == -1,
           "regions: largest first, specks left out (%d: %lld %lld)", nr, (long long)sizes[0], (long long)sizes[1]);
  // Diagonal neighbours join a region.
  memset(cls, DG_WORLD_ROAD, N);
  cls[0] = cls[W + 1] = cls[2 * W + 2] = DG_WORLD_CAR;
  dg_check(dg_eval_marks_regions(cls, W, H, DG_WORLD_CAR, 3, region, sizes, 1) == 1 && sizes[0] == 3, "8-neighbours");
}

static void test_binding(void) {
  static uint8_t cls[N], rgb[3 * N];
  static const uint8_t red[3] = {230, 20, 20}, blue[3] = {20, 20, 230}, white[3] = {240, 240, 240},
                       yellow[3] = {230, 230, 20}, grey[3] = {128, 128, 128};
  dg_eval_colours c = {0};
  const uint8_t *cols[DG_ATTR_COUNT] = {
      [DG_ATTR_RED] = red, [DG_ATTR_BLUE] = blue, [DG_ATTR_WHITE] = white, [DG_ATTR_YELLOW] = yellow};
  for (int a = 0; a < DG_ATTR_COUNT; a++)
    if (cols[a]) {
      c.images[a] = 1;
      for (int k = 0; k < 3; k++)
        c.rgb[a][k] = cols[a][k] / 127.5 - 1;
    }
  dg_eval_marks_judgement j;
  const int cars[2] = {DG_WORLD_CAR, DG_WORLD_CAR}, rb[2] = {DG_ATTR_RED, DG_ATTR_BLUE};
  dg_eval_marks_prompt p = prompt_of("a red car and a blue car", 2, cars, rb);
  // Cars of 5x5 = 25 pixels (the binding's regions need DG_EVAL_ATTR_MIN_PIXELS = 20).
#define SCENE(c1, c2)                                                                                                  \
  do {                                                                                                                 \
    memset(cls, DG_WORLD_ROAD, N);                                                                                     \
    for (int i = 0; i < N; i++)                                                                                        \
      memcpy(rgb + 3 * i, grey, 3);                                                                                    \
    fill(cls, rgb, 2, 10, 5, 5, DG_WORLD_CAR, c1);                                                                     \
    fill(cls, rgb, 20, 10, 5, 5, DG_WORLD_CAR, c2);                                                                    \
  } while (0)
  SCENE(red, blue);
  dg_check_status(dg_eval_marks_judge(&p, &c, rgb, cls, W, H, &j), "judge");
  dg_check(j.bindings == 2 && j.binding == 1 && j.found == 1 && j.all_present, "a red and a blue car: bound");
  SCENE(blue, red);
  dg_check_status(dg_eval_marks_judge(&p, &c, rgb, cls, W, H, &j), "judge");
  dg_check(j.binding == 1, "the same cars the other way round: bound (positions are not judged)");
  SCENE(red, red);
  dg_check_status(dg_eval_marks_judge(&p, &c, rgb, cls, W, H, &j), "judge");
  dg_check(j.binding == 0 && j.found == 0 && j.all_present, "two red cars: the blue one is missing");
  SCENE(white, blue);
  dg_check_status(dg_eval_marks_judge(&p, &c, rgb, cls, W, H, &j), "judge");
  dg_check(j.binding == 0, "a white and a blue car: red is missing");
  // One car half red, half blue: both colours pass in one region, which cannot stand for two cars.
  memset(cls, DG_WORLD_ROAD, N);
  fill(cls, rgb, 2, 10, 5, 5, DG_WORLD_CAR, red);
  fill(cls, rgb, 7, 10, 5, 5, DG_WORLD_CAR, blue);
  dg_check_status(dg_eval_marks_judge(&p, &c, rgb, cls, W, H, &j), "judge");
  dg_check(j.binding == 0 && j.found == 1, "one two-coloured car: not bound, both colours found");
  // A car of 16 pixels is too small to judge.
  SCENE(red, blue);
  fill(cls, rgb, 20, 10, 5, 5, DG_WORLD_ROAD, grey);
  fill(cls, rgb, 20, 10, 4, 4, DG_WORLD_CAR, blue);
  dg_check_status(dg_eval_marks_judge(&p, &c, rgb, cls, W, H, &j), "judge");
  dg_check(j.binding == 0, "a blue car under 20 pixels: not bound");

  // A car next to a building: only the car's colour is judged; swapped colours fail.
  const int cb[2] = {DG_WORLD_CAR, DG_WORLD_BUILDING}, yw[2] = {DG_ATTR_YELLOW, DG_ATTR_WHITE};
  p = prompt_of("a yellow car next to a white building", 2, cb, yw);
  memset(cls, DG_WORLD_ROAD, N);
  fill(cls, rgb, 2, 10, 5, 5, DG_WORLD_CAR, yellow);
  fill(cls, rgb, 20, 0, 15, 10, DG_WORLD_BUILDING, white);
  dg_check_status(dg_eval_marks_judge(&p, &c, rgb, cls, W, H, &j), "judge");
  dg_check(j.bindings == 1 && j.binding == 1 && j.all_present, "a yellow car, a white building: bound");
  fill(cls, rgb, 2, 10, 5, 5, DG_WORLD_CAR, white);
  fill(cls, rgb, 20, 0, 15, 10, DG_WORLD_BUILDING, yellow);
  dg_check_status(dg_eval_marks_judge(&p, &c, rgb, cls, W, H, &j), "judge");
  dg_check(j.binding == 0 && j.found == 0 && j.all_present, "colours swapped between car and building: not bound");
  fill(cls, rgb, 2, 10, 5, 5, DG_WORLD_ROAD, grey);
  dg_check_status(dg_eval_marks_judge(&p, &c, rgb, cls, W, H, &j), "judge");
  dg_check(j.binding == 0 && !j.present[0] && j.present[1], "no car: not bound, not present");
  // A colour without a centroid fails, as dg_eval_attr does.
  const int gb[2] = {DG_ATTR_GREEN, DG_ATTR_WHITE};
  p = prompt_of("a green car next to a white building", 2, cb, gb);
  fill(cls, rgb, 2, 10, 5, 5, DG_WORLD_CAR, yellow);
  dg_check_status(dg_eval_marks_judge(&p, &c, rgb, cls, W, H, &j), "judge");
  dg_check(j.binding == 0, "a colour without centroid: not bound");
#undef SCENE
}

static void test_bootstrap(void) {
  double x[100], mean, lo, hi, m2, lo2, hi2;
  for (int i = 0; i < 100; i++)
    x[i] = i % 2;
  dg_check_status(dg_eval_bootstrap(x, 100, 1000, 18, 0.95, &mean, &lo, &hi), "bootstrap");
  // Binomial p = 0.5, n = 100: standard error 0.05, so about 0.40 .. 0.60.
  dg_check(mean == 0.5 && lo > 0.38 && lo < 0.42 && hi > 0.58 && hi < 0.62, "0/1 data: %g [%g, %g]", mean, lo, hi);
  dg_check_status(dg_eval_bootstrap(x, 100, 1000, 18, 0.95, &m2, &lo2, &hi2), "bootstrap again");
  dg_check(m2 == mean && lo2 == lo && hi2 == hi, "the same seed gives the same interval");
  x[3] = NAN;
  dg_check_status(dg_eval_bootstrap(x, 100, 1000, 18, 0.95, &mean, &lo, &hi), "with NaN");
  dg_check(fabs(mean - 49 / 99.0) < 1e-12 && lo < mean && hi > mean, "NaN left out: mean %g", mean);
  for (int i = 0; i < 10; i++)
    x[i] = 0.25;
  dg_check_status(dg_eval_bootstrap(x, 10, 1000, 1, 0.95, &mean, &lo, &hi), "constant");
  dg_check(mean == 0.25 && lo == 0.25 && hi == 0.25, "constant data: a point interval");
  x[0] = NAN;
  dg_check_status(dg_eval_bootstrap(x, 1, 1000, 1, 0.95, &mean, &lo, &hi), "all NaN");
  dg_check(isnan(mean) && isnan(lo) && isnan(hi), "no value: NaN");
}

int main(void) {
  dg_tokenizer *tok = NULL;
  if (dg_check_status(dg_tokenizer_load(DG_SOURCE_DIR "/assets/tokenizer", &tok), "the shipped tokenizer loads"))
    test_sets(tok);
  dg_tokenizer_free(tok);
  test_present();
  test_binding();
  test_bootstrap();
  return dg_check_finish("test_eval_marks");
}
