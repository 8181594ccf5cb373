// Captions from the scene graph, with the token roles Divide & Bind needs: for every object word the
// character span of the word and of its attribute word. Only objects left after the visibility pass
// are described, so a caption never mentions what the image does not show.
#include <stdio.h>
#include <string.h>

#include "dg_world.h"
#include "dg_world_internal.h"

typedef struct builder {
  dg_world_caption *c;
  int len;
  bool overflow;
} builder;

static void app(builder *b, const char *s) {
  size_t n = strlen(s);
  if (b->len + n + 1 > sizeof b->c->text) {
    b->overflow = true;
    return;
  }
  memcpy(b->c->text + b->len, s, n + 1);
  b->len += (int)n;
}

static const char *noun(int cls, bool plural) {
  switch (cls) {
  case DG_WORLD_CAR: return plural ? "cars" : "car";
  case DG_WORLD_PERSON: return plural ? "people" : "person";
  case DG_WORLD_TREE: return plural ? "trees" : "tree";
  case DG_WORLD_POLE: return plural ? "street lamps" : "street lamp";
  case DG_WORLD_SIGN: return plural ? "traffic signs" : "traffic sign";
  case DG_WORLD_BUILDING: return plural ? "buildings" : "building";
  case DG_WORLD_FENCE: return plural ? "fences" : "fence";
  }
  return "thing";
}

static const char *number(int n) {
  static const char *w[] = {"no",    "a",     "two",  "three", "four",   "five",  "six",
                            "seven", "eight", "nine", "ten",   "eleven", "twelve"};
  return n >= 0 && n <= 12 ? w[n] : NULL;
}

// Appends "<count> <attr> <noun>" and records the role.
static void app_object(builder *b, int count, int cls, int attr) {
  char num[16];
  const char *w = number(count);
  if (!w) {
    snprintf(num, sizeof num, "%d", count);
    w = num;
  }
  app(b, w);
  app(b, " ");
  dg_world_role role = {{0, 0}, {-1, -1}, cls, attr, count};
  if (attr != DG_ATTR_NONE) {
    role.attribute[0] = b->len;
    app(b, dg_world_attr_names[attr]);
    role.attribute[1] = b->len;
    app(b, " ");
  }
  role.object[0] = b->len;
  app(b, noun(cls, count > 1));
  role.object[1] = b->len;
  if (!b->overflow && b->c->n_roles < DG_WORLD_MAX_ROLES)
    b->c->roles[b->c->n_roles++] = role;
  else
    b->overflow = true;
}

typedef struct group {
  int cls, attr, count;
} group;

// Groups the scene's objects of class `cls` by attribute (in order of first appearance).
static int groups_of(const dg_world_scene *s, int cls, group *out, int max) {
  int n = 0;
  for (int i = 0; i < s->n_objects; i++) {
    const dg_world_object *o = &s->objects[i];
    if (o->cls != cls) continue;
    int k = 0;
    while (k < n && out[k].attr != o->attr)
      k++;
    if (k == n) {
      if (n == max) continue;
      out[n++] = (group){cls, o->attr, 0};
    }
    out[k].count++;
  }
  return n;
}

static void app_list(builder *b, const group *g, int n) {
  for (int i = 0; i < n; i++) {
    if (i) app(b, i == n - 1 ? " and " : ", ");
    app_object(b, g[i].count, g[i].cls, g[i].attr);
  }
}

static const char *place(const dg_world_scene *s) { return s->layout == DG_LAYOUT_STREET ? "street" : "country road"; }

static const char *weather_adj(const dg_world_scene *s) {
  switch (s->style.weather) {
  case DG_WEATHER_FOG: return "foggy ";
  case DG_WEATHER_RAIN: return "rainy ";
  case DG_WEATHER_SNOW: return "snowy ";
  default: return s->style.time == DG_TIME_DAY ? "sunny " : "";
  }
}

static const char *time_phrase(const dg_world_scene *s, bool always) {
  switch (s->style.time) {
  case DG_TIME_SUNSET: return " at sunset";
  case DG_TIME_NIGHT: return " at night";
  default: return always ? " during the day" : "";
  }
}

// The most visible object of the first class in `order` that is present.
static const dg_world_object *salient(const dg_world_scene *s) {
  static const int order[] = {DG_WORLD_CAR, DG_WORLD_BUILDING, DG_WORLD_PERSON, DG_WORLD_TREE};
  for (int k = 0; k < 4; k++) {
    const dg_world_object *best = NULL;
    for (int i = 0; i < s->n_objects; i++)
      if (s->objects[i].cls == order[k] && (!best || s->objects[i].pixels > best->pixels)) best = &s->objects[i];
    if (best) return best;
  }
  return NULL;
}

static void short_caption(const dg_world_scene *s, builder *b, int variant) {
  const dg_world_object *o = salient(s);
  if (variant == 0) {
    if (o) {
      app_object(b, 1, o->cls, o->attr);
      app(b, o->cls == DG_WORLD_CAR || o->cls == DG_WORLD_PERSON ? " on a " : " along a ");
    } else {
      app(b, "a ");
    }
    app(b, weather_adj(s));
    app(b, place(s));
    app(b, time_phrase(s, false));
  } else {
    app(b, "a ");
    app(b, weather_adj(s));
    app(b, place(s));
    if (o) {
      app(b, " with ");
      app_object(b, 1, o->cls, o->attr);
    }
    app(b, time_phrase(s, true));
    app(b, " in ");
    app(b, dg_world_season_names[s->style.season]);
  }
}

static void list_caption(const dg_world_scene *s, builder *b) {
  group cars[8], blds[8];
  int nc = groups_of(s, DG_WORLD_CAR, cars, 8), nb = groups_of(s, DG_WORLD_BUILDING, blds, 8);
  if (nc) {
    app_list(b, cars, nc);
    if (nb) {
      app(b, " next to ");
      app_list(b, blds, nb);
    } else {
      app(b, " on a ");
      app(b, place(s));
    }
    return;
  }
  if (nb) {
    app_list(b, blds, nb);
    app(b, " along a ");
    app(b, place(s));
    return;
  }
  static const int others[] = {DG_WORLD_PERSON, DG_WORLD_TREE, DG_WORLD_FENCE};
  group g[3];
  int n = 0;
  for (int k = 0; k < 3; k++)
    n += groups_of(s, others[k], g + n, 1);
  if (n) {
    app_list(b, g, n);
    app(b, " by a ");
  } else {
    app(b, "an empty ");
  }
  app(b, place(s));
}

static void count_caption(const dg_world_scene *s, builder *b, uint64_t seed) {
  static const int order[] = {DG_WORLD_PERSON, DG_WORLD_TREE, DG_WORLD_CAR,  DG_WORLD_BUILDING,
                              DG_WORLD_POLE,   DG_WORLD_SIGN, DG_WORLD_FENCE};
  group g[7];
  int n = 0, rot = (int)(wrng_mix(seed ^ 0xc0) % 3);
  for (int k = 0; k < 7; k++) {
    int cls = order[(k + rot) % 7], count = 0;
    for (int i = 0; i < s->n_objects; i++)
      count += s->objects[i].cls == cls;
    if (count) g[n++] = (group){cls, DG_ATTR_NONE, count};
  }
  if (!n) {
    app(b, "an empty ");
    app(b, place(s));
    return;
  }
  app_list(b, g, n);
}

int dg_world_captions(const dg_world_scene *s, dg_world_caption *out) {
  int n = 0;
  const char *kinds[DG_WORLD_MAX_CAPTIONS] = {"short", "list", "count", "short"};
  for (int k = 0; k < DG_WORLD_MAX_CAPTIONS; k++) {
    dg_world_caption *c = &out[n];
    memset(c, 0, sizeof *c);
    builder b = {c, 0, false};
    c->kind = kinds[k];
    if (k == 0)
      short_caption(s, &b, 0);
    else if (k == 1)
      list_caption(s, &b);
    else if (k == 2)
      count_caption(s, &b, s->seed);
    else
      short_caption(s, &b, 1);
    if (!b.overflow) n++; // a caption too long for the buffer is left out rather than cut
  }
  return n;
}
