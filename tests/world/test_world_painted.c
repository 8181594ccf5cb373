// Painted-style layouts (dg_world_painted) and their rendering (dg_world_render_labels with an attribute
// map): deterministic, sky above and ground below the horizon, objects where the scene says and named by
// the captions, few unpainted pixels, the test settings unlike the training ones, car colours as asked, and
// every weather renders (rain and snow once wrote through a null plane).
#include <stdlib.h>
#include <string.h>

#include "dg_world.h"
#include "world_test.h"

enum { W = 256, H = 128, N = W * H, SEEDS = 60 };

static bool above(int c) {
  return c == DG_WORLD_SKY || c == DG_WORLD_CLOUD || c == DG_WORLD_MOUNTAIN || c == DG_WORLD_BUILDING ||
         c == DG_WORLD_TREE || c == DG_WORLD_POLE || c == DG_WORLD_SIGN || c == DG_WORLD_UNLABELLED;
}

typedef struct stats {
  double objects, unlabelled, horizon;
  int cars;
} stats;

static stats check_settings(dg_world_painted_settings settings) {
  static uint8_t lab[N], lab2[N], attr[N], attr2[N];
  static dg_world_scene s, s2;
  stats st = {0};
  for (uint64_t seed = 0; seed < SEEDS; seed++) {
    dg_check_status(dg_world_painted(seed, W, H, settings, lab, attr, &s), "painted");
    dg_check_status(dg_world_painted(seed, W, H, settings, lab2, attr2, &s2), "painted again");
    dg_check(!memcmp(lab, lab2, N) && !memcmp(attr, attr2, N), "seed %llu: the same layout twice",
             (unsigned long long)seed);
    int top_ok = 0, bottom_ground = 0, unl = 0;
    for (int i = 0; i < N; i++) {
      dg_check(lab[i] < DG_WORLD_NUM_CLASSES || lab[i] == DG_WORLD_UNLABELLED, "class %d", lab[i]);
      unl += lab[i] == DG_WORLD_UNLABELLED;
    }
    for (int x = 0; x < W; x++) {
      top_ok += above(lab[x]);
      int b = lab[(H - 1) * W + x];
      bottom_ground += !above(b) || b == DG_WORLD_POLE || b == DG_WORLD_UNLABELLED;
    }
    dg_check(top_ok == W, "seed %llu: the top row is sky or what stands on the horizon", (unsigned long long)seed);
    dg_check(bottom_ground > W * 3 / 4, "seed %llu: the bottom row is ground (%d of %d)", (unsigned long long)seed,
             bottom_ground, W);
    dg_check(unl < N / 6, "seed %llu: %d unpainted pixels", (unsigned long long)seed, unl);
    for (int k = 0; k < s.n_objects; k++) {
      const dg_world_object *o = &s.objects[k];
      int inside = 0;
      for (int y = o->bbox[1]; y < o->bbox[3]; y++)
        for (int x = o->bbox[0]; x < o->bbox[2]; x++)
          inside += lab[y * W + x] == o->cls;
      dg_check(o->pixels > 0 && inside >= o->pixels, "seed %llu object %d: its %d pixels lie in its box",
               (unsigned long long)seed, k, o->pixels);
      if (o->cls == DG_WORLD_CAR) {
        st.cars++;
        dg_check(o->attr >= DG_ATTR_RED && o->attr <= DG_ATTR_GREEN, "a car has a car colour");
        int colored = 0;
        for (int y = o->bbox[1]; y < o->bbox[3]; y++)
          for (int x = o->bbox[0]; x < o->bbox[2]; x++)
            colored += lab[y * W + x] == DG_WORLD_CAR && attr[y * W + x] == o->attr;
        dg_check(colored > 0, "the attribute map carries the car's colour");
      }
    }
    dg_world_caption caps[DG_WORLD_MAX_CAPTIONS];
    int nc = dg_world_captions(&s, caps);
    dg_check(nc >= 2, "seed %llu: captions", (unsigned long long)seed);
    bool has_car = false, named = false;
    for (int k = 0; k < s.n_objects; k++)
      has_car |= s.objects[k].cls == DG_WORLD_CAR;
    for (int k = 0; k < nc; k++)
      named |= strstr(caps[k].text, "car") != NULL;
    dg_check(has_car == named, "seed %llu: the captions name cars exactly when the layout has one ('%s')",
             (unsigned long long)seed, caps[0].text);
    st.objects += s.n_objects / (double)SEEDS;
    st.unlabelled += unl / (double)N / SEEDS;
    st.horizon += s.horizon / SEEDS;
  }
  return st;
}

static void test_settings(void) {
  stats tr = check_settings(DG_PAINTED_TRAIN), te = check_settings(DG_PAINTED_TEST);
  printf("train: %.1f objects, %.3f unpainted, horizon %.2f, %d cars; test: %.1f, %.3f, %.2f, %d cars\n", tr.objects,
         tr.unlabelled, tr.horizon, tr.cars, te.objects, te.unlabelled, te.horizon, te.cars);
  dg_check(tr.cars > SEEDS / 2 && te.cars > SEEDS / 2, "cars are common");
  dg_check(te.objects > tr.objects, "the test settings paint more objects (%.1f vs %.1f)", te.objects, tr.objects);
  dg_check(te.unlabelled > tr.unlabelled, "and leave more unpainted");
  static uint8_t a[N], b[N], attr[N];
  static dg_world_scene s;
  dg_check_status(dg_world_painted(7, W, H, DG_PAINTED_TRAIN, a, attr, &s), "train settings");
  dg_check_status(dg_world_painted(7, W, H, DG_PAINTED_TEST, b, attr, &s), "test settings");
  dg_check(memcmp(a, b, N) != 0, "one seed, two settings, two layouts");
  dg_check_error(dg_world_painted(7, 8, 8, DG_PAINTED_TRAIN, a, attr, &s), DG_ERR_ARG, "8x8", "tiny size refused");
  dg_check_error(dg_world_painted(7, W, H, DG_PAINTED_COUNT, a, attr, &s), DG_ERR_ARG, "settings", "bad settings");
}

static void test_attr_and_weather(void) {
  static uint8_t lab[N], attr[N], rgb[N * 3];
  memset(attr, 255, N);
  for (int i = 0; i < N; i++) {
    int x = i % W, y = i / W;
    lab[i] = y < 50 ? DG_WORLD_SKY : DG_WORLD_ROAD;
    if (y > 70 && y < 100 && x > 30 && x < 110) lab[i] = DG_WORLD_CAR, attr[i] = DG_ATTR_RED;
    if (y > 70 && y < 100 && x > 150 && x < 230) lab[i] = DG_WORLD_CAR, attr[i] = DG_ATTR_BLUE;
  }
  dg_world_mood day = dg_world_mood_of((dg_world_style){DG_TIME_DAY, DG_WEATHER_CLEAR, DG_SEASON_SUMMER});
  for (uint64_t seed = 1; seed <= 4; seed++) {
    dg_check_status(dg_world_render_labels(lab, attr, W, H, day, seed, rgb), "render with attributes");
    double red[3] = {0}, blue[3] = {0};
    for (int y = 80; y < 90; y++)
      for (int c = 0; c < 3; c++)
        for (int x = 40; x < 100; x++) {
          red[c] += rgb[3 * (y * W + x) + c];
          blue[c] += rgb[3 * (y * W + x + 120) + c];
        }
    dg_check(red[0] > red[2] && blue[2] > blue[0], "seed %llu: the red car is red, the blue one blue",
             (unsigned long long)seed);
  }
  for (int w = 0; w < DG_WEATHER_COUNT; w++) {
    dg_world_mood m = dg_world_mood_of((dg_world_style){DG_TIME_SUNSET, (dg_world_weather)w, DG_SEASON_WINTER});
    dg_check(dg_world_render_labels(lab, NULL, W, H, m, 3, rgb) == DG_OK, "render in %s: %s", dg_world_weather_names[w],
             dg_last_error());
  }
}

int main(void) {
  test_settings();
  test_attr_and_weather();
  return dg_check_finish("test_world_painted");
}
