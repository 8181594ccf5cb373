#include "dg_eval_marks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const dg_eval_marks_set_names[DG_EVAL_MARKS_SET_COUNT] = {"multi", "colour", "scene"};

dg_status dg_eval_marks_set_parse(const char *name, dg_eval_marks_set *out) {
  for (int k = 0; k < DG_EVAL_MARKS_SET_COUNT; k++)
    if (name && !strcmp(name, dg_eval_marks_set_names[k])) {
      *out = (dg_eval_marks_set)k;
      return DG_OK;
    }
  return dg_fail(DG_ERR_ARG, "prompt set '%s': expected multi, colour or scene", name ? name : "");
}

// ---- Prompt sets ----
// Only the world's caption words (app/world/dg_world_caption.c): its object nouns, car colours (the first
// six attributes; buildings red, yellow, white, grey, blue, brown), weather adjectives, places, times and
// seasons, joined as its captions join them.

typedef struct noun_entry {
  int cls;
  const char *noun, *word;
} noun_entry;

static const noun_entry nouns[] = {
    {DG_WORLD_CAR, "car", "car"},
    {DG_WORLD_PERSON, "person", "person"},
    {DG_WORLD_TREE, "tree", "tree"},
    {DG_WORLD_POLE, "street lamp", "lamp"},
    {DG_WORLD_SIGN, "traffic sign", "sign"},
    {DG_WORLD_BUILDING, "building", "building"},
    {DG_WORLD_FENCE, "fence", "fence"},
};
#define N_NOUNS ((int)(sizeof nouns / sizeof *nouns))

static const noun_entry *noun_of(int cls) {
  for (int k = 0; k < N_NOUNS; k++)
    if (nouns[k].cls == cls) return &nouns[k];
  return &nouns[0];
}

static const int car_colours[] = {DG_ATTR_RED,   DG_ATTR_BLUE,   DG_ATTR_WHITE,
                                  DG_ATTR_BLACK, DG_ATTR_YELLOW, DG_ATTR_GREEN};
static const int building_colours[] = {DG_ATTR_RED,  DG_ATTR_YELLOW, DG_ATTR_WHITE,
                                       DG_ATTR_GREY, DG_ATTR_BLUE,   DG_ATTR_BROWN};

static uint64_t mix(uint64_t *state) { // splitmix64
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void shuffle(int *a, int n, uint64_t seed) {
  uint64_t st = seed;
  for (int i = n - 1; i > 0; i--) {
    int j = (int)(mix(&st) % (uint64_t)(i + 1)), t = a[i];
    a[i] = a[j], a[j] = t;
  }
}

static void add_object(dg_eval_marks_prompt *p, int cls, int attr) {
  const noun_entry *e = noun_of(cls);
  int occ = 1;
  for (int k = 0; k < p->n_objects; k++)
    occ += p->objects[k].cls == cls;
  p->objects[p->n_objects++] = (dg_eval_marks_object){cls, attr, occ, e->noun, e->word};
}

// The marks text of the prompt's objects: "word" (or "word#n" for a repeated class), with "colour:"
// before it when the object has a colour.
static void write_marks(dg_eval_marks_prompt *p) {
  int len = 0;
  p->marks[0] = 0;
  for (int k = 0; k < p->n_objects; k++) {
    const dg_eval_marks_object *o = &p->objects[k];
    int same = 0;
    for (int j = 0; j < p->n_objects; j++)
      same += p->objects[j].cls == o->cls;
    char occ[8] = "";
    if (same > 1) snprintf(occ, sizeof occ, "#%d", o->occurrence);
    len += snprintf(p->marks + len, sizeof p->marks - (size_t)len, "%s%s%s%s%s", k ? ", " : "",
                    o->attr != DG_ATTR_NONE ? dg_world_attr_names[o->attr] : "", o->attr != DG_ATTR_NONE ? ":" : "",
                    o->word, occ);
  }
}

// "a X and a Y", "a X, a Y and a Z" (with colours: "a red car and a blue car").
static int write_list(const dg_eval_marks_prompt *p, char *text, int size) {
  int len = 0;
  for (int k = 0; k < p->n_objects; k++) {
    const dg_eval_marks_object *o = &p->objects[k];
    len += snprintf(text + len, (size_t)(size - len), "%sa %s%s%s",
                    !k                      ? ""
                    : k == p->n_objects - 1 ? " and "
                                            : ", ",
                    o->attr != DG_ATTR_NONE ? dg_world_attr_names[o->attr] : "", o->attr != DG_ATTR_NONE ? " " : "",
                    o->noun);
  }
  return len;
}

static int multi_set(dg_eval_marks_prompt *out) {
  int pairs[N_NOUNS * N_NOUNS], triples[N_NOUNS * N_NOUNS * N_NOUNS], np = 0, nt = 0;
  for (int a = 0; a < N_NOUNS; a++)
    for (int b = 0; b < N_NOUNS; b++) {
      if (b == a) continue;
      pairs[np++] = a * N_NOUNS + b;
      for (int c = 0; c < N_NOUNS; c++)
        if (c != a && c != b) triples[nt++] = (a * N_NOUNS + b) * N_NOUNS + c;
    }
  shuffle(pairs, np, 0x6d756c7469ull);
  shuffle(triples, nt, 0x747269706c65ull);
  int ip = 0, it = 0;
  for (int i = 0; i < DG_EVAL_MARKS_SET_SIZE; i++) {
    dg_eval_marks_prompt *p = &out[i];
    memset(p, 0, sizeof *p);
    if (i % 2 == 0 && ip < np) {
      int v = pairs[ip++];
      add_object(p, nouns[v / N_NOUNS].cls, DG_ATTR_NONE);
      add_object(p, nouns[v % N_NOUNS].cls, DG_ATTR_NONE);
    } else {
      int v = triples[it++];
      add_object(p, nouns[v / (N_NOUNS * N_NOUNS)].cls, DG_ATTR_NONE);
      add_object(p, nouns[v / N_NOUNS % N_NOUNS].cls, DG_ATTR_NONE);
      add_object(p, nouns[v % N_NOUNS].cls, DG_ATTR_NONE);
    }
    write_list(p, p->prompt, sizeof p->prompt);
    write_marks(p);
  }
  return DG_EVAL_MARKS_SET_SIZE;
}

static int colour_set(dg_eval_marks_prompt *out) {
  static const char *const places[] = {"", " on a street", " on a country road"};
  enum { NC = 6 };
  int cand[NC * NC * 3 + NC * NC], n = 0;
  // Two cars of different colours, alone or on a place: 0 .. 89; a car next to a building of another
  // colour: 1000 + car * NC + building.
  for (int a = 0; a < NC; a++)
    for (int b = 0; b < NC; b++) {
      if (a != b)
        for (int pl = 0; pl < 3; pl++)
          cand[n++] = (a * NC + b) * 3 + pl;
      if (car_colours[a] != building_colours[b]) cand[n++] = 1000 + a * NC + b;
    }
  shuffle(cand, n, 0x636f6c6f7572ull);
  for (int i = 0; i < DG_EVAL_MARKS_SET_SIZE; i++) {
    dg_eval_marks_prompt *p = &out[i];
    memset(p, 0, sizeof *p);
    int v = cand[i], len;
    if (v < 1000) {
      add_object(p, DG_WORLD_CAR, car_colours[v / 3 / NC]);
      add_object(p, DG_WORLD_CAR, car_colours[v / 3 % NC]);
      len = write_list(p, p->prompt, sizeof p->prompt);
      snprintf(p->prompt + len, sizeof p->prompt - (size_t)len, "%s", places[v % 3]);
    } else {
      v -= 1000;
      add_object(p, DG_WORLD_CAR, car_colours[v / NC]);
      add_object(p, DG_WORLD_BUILDING, building_colours[v % NC]);
      snprintf(p->prompt, sizeof p->prompt, "a %s car next to a %s building", dg_world_attr_names[p->objects[0].attr],
               dg_world_attr_names[p->objects[1].attr]);
    }
    write_marks(p);
  }
  return DG_EVAL_MARKS_SET_SIZE;
}

// The world's short captions: "a car on a snowy street at night" (cars and people "on", buildings and
// trees "along"), and "a foggy country road with a tree at sunset in autumn".
static int scene_set(dg_eval_marks_prompt *out) {
  static const int objects[] = {DG_WORLD_CAR, DG_WORLD_PERSON, DG_WORLD_TREE, DG_WORLD_BUILDING};
  static const char *const places[] = {"street", "country road"};
  // Weather adjective and time (as the world pairs them: "sunny" only by day, no adjective when clear
  // at sunset or night).
  typedef struct mood {
    const char *adj;
    dg_world_time time;
    dg_world_weather weather;
  } mood;
  mood moods[12];
  int nm = 0;
  moods[nm++] = (mood){"sunny ", DG_TIME_DAY, DG_WEATHER_CLEAR};
  moods[nm++] = (mood){"", DG_TIME_SUNSET, DG_WEATHER_CLEAR};
  moods[nm++] = (mood){"", DG_TIME_NIGHT, DG_WEATHER_CLEAR};
  static const char *const adjs[] = {"foggy ", "rainy ", "snowy "};
  for (int w = 0; w < 3; w++)
    for (int t = 0; t < DG_TIME_COUNT; t++)
      moods[nm++] = (mood){adjs[w], (dg_world_time)t, (dg_world_weather)(DG_WEATHER_FOG + w)};
  static const char *const times[] = {"", " at sunset", " at night"};
  static const char *const times_always[] = {" during the day", " at sunset", " at night"};
  int form0[4 * 12 * 2], form1[4 * 12 * 2 * DG_SEASON_COUNT], n0 = 0, n1 = 0;
  for (int o = 0; o < 4; o++)
    for (int m = 0; m < nm; m++)
      for (int pl = 0; pl < 2; pl++) {
        form0[n0++] = (o * nm + m) * 2 + pl;
        for (int se = 0; se < DG_SEASON_COUNT; se++)
          if (!(moods[m].weather == DG_WEATHER_SNOW && se == DG_SEASON_SUMMER)) // snow only in autumn and winter
            form1[n1++] = ((o * nm + m) * 2 + pl) * DG_SEASON_COUNT + se;
      }
  shuffle(form0, n0, 0x7363656e65ull);
  shuffle(form1, n1, 0x7363656e6531ull);
  int i0 = 0, i1 = 0;
  for (int i = 0; i < DG_EVAL_MARKS_SET_SIZE; i++) {
    dg_eval_marks_prompt *p = &out[i];
    memset(p, 0, sizeof *p);
    bool first = i % 2 == 0 && i0 < n0;
    int v = first ? form0[i0++] : form1[i1++], se = 0;
    if (!first) se = v % DG_SEASON_COUNT, v /= DG_SEASON_COUNT;
    int pl = v % 2, m = v / 2 % nm, o = v / 2 / nm;
    add_object(p, objects[o], DG_ATTR_NONE);
    const char *noun = p->objects[0].noun;
    if (first)
      snprintf(p->prompt, sizeof p->prompt, "a %s %s a %s%s%s", noun,
               objects[o] == DG_WORLD_CAR || objects[o] == DG_WORLD_PERSON ? "on" : "along", moods[m].adj, places[pl],
               times[moods[m].time]);
    else
      snprintf(p->prompt, sizeof p->prompt, "a %s%s with a %s%s in %s", moods[m].adj, places[pl], noun,
               times_always[moods[m].time], dg_world_season_names[se]);
    write_marks(p);
  }
  return DG_EVAL_MARKS_SET_SIZE;
}

int dg_eval_marks_prompts(dg_eval_marks_set set, dg_eval_marks_prompt *out) {
  switch (set) {
  case DG_EVAL_MARKS_MULTI: return multi_set(out);
  case DG_EVAL_MARKS_COLOUR: return colour_set(out);
  case DG_EVAL_MARKS_SCENE: return scene_set(out);
  default: return 0;
  }
}

void dg_eval_marks_object_text(const dg_eval_marks_object *o, char *text, int size) {
  snprintf(text, (size_t)size, "a %s", o->noun);
}

// ---- Judging ----

int64_t dg_eval_marks_present_pixels(int width, int height) {
  int64_t px = (int64_t)ceil(DG_EVAL_MARKS_PRESENT_SHARE * (double)width * (double)height);
  return px < DG_EVAL_MARKS_MIN_PIXELS ? DG_EVAL_MARKS_MIN_PIXELS : px;
}

typedef struct sized {
  int64_t size;
  int id;
} sized;

static int by_size(const void *a, const void *b) {
  const sized *x = a, *y = b;
  return x->size != y->size ? (x->size < y->size ? 1 : -1) : x->id - y->id;
}

int dg_eval_marks_regions(const uint8_t *classes, int width, int height, int cls, int64_t min_pixels, int32_t *region,
                          int64_t *sizes, int max_sizes) {
  int64_t n = (int64_t)width * height;
  int32_t *stack = malloc((size_t)(n ? n : 1) * sizeof *stack);
  sized *comp = NULL;
  int nc = 0, cap = 0;
  if (!stack) return -1;
  for (int64_t i = 0; i < n; i++)
    region[i] = -1;
  for (int64_t i = 0; i < n; i++) {
    if (classes[i] != cls || region[i] != -1) continue;
    if (nc == cap) {
      cap = cap ? 2 * cap : 16;
      sized *c = realloc(comp, (size_t)cap * sizeof *c);
      if (!c) {
        free(comp), free(stack);
        return -1;
      }
      comp = c;
    }
    int64_t top = 0, size = 0;
    stack[top++] = (int32_t)i;
    region[i] = nc;
    while (top) {
      int32_t p = stack[--top];
      int x = p % width, y = p / width;
      size++;
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
          int xx = x + dx, yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
          int32_t q = yy * width + xx;
          if (classes[q] == cls && region[q] == -1) region[q] = nc, stack[top++] = q;
        }
    }
    comp[nc] = (sized){size, nc};
    nc++;
  }
  if (nc) qsort(comp, (size_t)nc, sizeof *comp, by_size);
  int kept = 0;
  int32_t *rank = (int32_t *)stack; // component id -> kept index or -1 (nc <= n)
  for (int k = 0; k < nc; k++)
    rank[k] = -1;
  for (int k = 0; k < nc && comp[k].size >= min_pixels; k++) {
    rank[comp[k].id] = kept;
    if (sizes && kept < max_sizes) sizes[kept] = comp[k].size;
    kept++;
  }
  for (int64_t i = 0; i < n; i++)
    if (region[i] >= 0) region[i] = rank[region[i]];
  free(comp);
  free(stack);
  return kept;
}

// Kuhn's augmenting paths: can binding b (and those after it that are already matched) get a region?
static bool augment(int b, int nr, const bool *pass, int *owner, bool *seen) {
  for (int r = 0; r < nr; r++) {
    if (!pass[b * nr + r] || seen[r]) continue;
    seen[r] = true;
    if (owner[r] < 0 || augment(owner[r], nr, pass, owner, seen)) {
      owner[r] = b;
      return true;
    }
  }
  return false;
}

dg_status dg_eval_marks_judge(const dg_eval_marks_prompt *p, const dg_eval_colours *colours, const uint8_t *rgb,
                              const uint8_t *classes, int width, int height, dg_eval_marks_judgement *out) {
  memset(out, 0, sizeof *out);
  int64_t n = (int64_t)width * height, thr = dg_eval_marks_present_pixels(width, height);
  int32_t *region = malloc((size_t)(n ? n : 1) * sizeof *region);
  uint8_t *mask = malloc((size_t)(n ? n : 1));
  dg_status s = region && mask ? DG_OK : dg_fail(DG_ERR_OOM, "out of host memory");
  out->n_objects = p->n_objects;
  out->all_present = true;
  for (int k = 0; s == DG_OK && k < p->n_objects; k++) {
    const dg_eval_marks_object *o = &p->objects[k];
    int nr = dg_eval_marks_regions(classes, width, height, o->cls, thr, region, NULL, 0);
    if (nr < 0) {
      s = dg_fail(DG_ERR_OOM, "out of host memory");
      break;
    }
    out->regions[k] = nr;
    for (int64_t i = 0; i < n; i++)
      out->pixels[k] += classes[i] == o->cls;
    out->present[k] = o->occurrence == 1 ? out->pixels[k] >= thr : nr >= o->occurrence;
    out->all_present &= out->present[k];
  }
  // Colour bindings on cars.
  int want[DG_EVAL_MARKS_MAX_OBJECTS], nb = 0;
  for (int k = 0; k < p->n_objects; k++)
    if (p->objects[k].cls == DG_EVAL_ATTR_CLASS && p->objects[k].attr != DG_ATTR_NONE) want[nb++] = p->objects[k].attr;
  out->bindings = nb;
  out->binding = out->found = nb ? 0 : -1;
  if (s == DG_OK && nb) {
    enum { MAX_REGIONS = 32 }; // the largest; the world draws fewer cars
    int nr =
        dg_eval_marks_regions(classes, width, height, DG_EVAL_ATTR_CLASS, DG_EVAL_ATTR_MIN_PIXELS, region, NULL, 0);
    if (nr < 0) s = dg_fail(DG_ERR_OOM, "out of host memory");
    if (nr > MAX_REGIONS) nr = MAX_REGIONS;
    bool pass[DG_EVAL_MARKS_MAX_OBJECTS * MAX_REGIONS] = {0};
    for (int r = 0; s == DG_OK && r < nr; r++) {
      for (int64_t i = 0; i < n; i++)
        mask[i] = region[i] == r ? DG_EVAL_ATTR_CLASS : DG_WORLD_UNLABELLED;
      for (int b = 0; b < nb; b++)
        pass[b * nr + r] = dg_eval_attr_pass(dg_eval_attr_share(colours, rgb, mask, n, want[b]));
    }
    int owner[MAX_REGIONS], matched = 0;
    for (int r = 0; r < nr; r++)
      owner[r] = -1;
    for (int b = 0; b < nb; b++) {
      bool seen[MAX_REGIONS] = {0};
      matched += augment(b, nr, pass, owner, seen);
    }
    out->binding = matched == nb;
    out->found = 1;
    for (int b = 0; b < nb; b++) {
      bool any = false;
      for (int r = 0; r < nr; r++)
        any |= pass[b * nr + r];
      out->found &= any;
    }
  }
  free(region);
  free(mask);
  return s;
}
