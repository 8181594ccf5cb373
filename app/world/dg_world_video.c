// Video clips: a scene whose mood moves through stages (day -> sunset -> night, clear -> snowing,
// summer -> autumn -> winter) or whose cars drive and clouds drift. Each stage holds over an inclusive
// frame range; the frames between two stages interpolate the mood (the ground-truth synopsis).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_world.h"
#include "dg_world_internal.h"

const char *const dg_world_clip_names[DG_CLIP_COUNT] = {"time", "weather", "season", "motion"};

static const char *place(const dg_world_scene *s) {
  return s->layout == DG_LAYOUT_STREET ? "a street" : "a country road";
}

static int count_class(const dg_world_scene *s, int cls) {
  int n = 0;
  for (int i = 0; i < s->n_objects; i++)
    n += s->objects[i].cls == cls;
  return n;
}

// Splits `frames` into n stages separated by transitions.
static void layout_stages(dg_world_clip *c, int n) {
  int trans = n > 1 ? c->frames / (4 * n) : 0;
  if (n > 1 && trans < 1) trans = 1;
  int hold = (c->frames - (n - 1) * trans) / n, start = 0;
  for (int i = 0; i < n; i++) {
    c->stages[i].start = start;
    c->stages[i].end = i == n - 1 ? c->frames - 1 : start + hold - 1;
    start += hold + trans;
  }
  c->n_stages = n;
}

dg_status dg_world_clip_plan(uint64_t seed, int width, int height, int frames, dg_world_clip *c) {
  if (frames < 2 || frames > DG_WORLD_MAX_FRAMES)
    return dg_fail(DG_ERR_ARG, "world clip: %d frames (must be 2..%d)", frames, DG_WORLD_MAX_FRAMES);
  memset(c, 0, sizeof *c);
  wrng r = wrng_make(seed, 0xc11b);
  c->seed = seed;
  c->frames = frames;
  c->kind = (dg_world_clip_kind)(seed % DG_CLIP_COUNT);
  dg_world_style base = dg_world_style_random(seed);
  dg_world_style st[3];
  int n = 0;
  switch (c->kind) {
  case DG_CLIP_TIME:
    if (base.weather == DG_WEATHER_SNOW && base.season == DG_SEASON_SUMMER) base.season = DG_SEASON_WINTER;
    for (int i = 0; i < 3; i++)
      st[i] = base, st[i].time = (dg_world_time)i;
    n = 3;
    break;
  case DG_CLIP_WEATHER: {
    float u = wrng_uniform(&r, 0, 1);
    dg_world_weather to = u < 0.5f ? DG_WEATHER_SNOW : u < 0.75f ? DG_WEATHER_RAIN : DG_WEATHER_FOG;
    base.time = base.time == DG_TIME_NIGHT ? DG_TIME_NIGHT : DG_TIME_DAY;
    if (to == DG_WEATHER_SNOW) base.season = wrng_uniform(&r, 0, 1) < 0.6f ? DG_SEASON_WINTER : DG_SEASON_AUTUMN;
    st[0] = st[1] = base;
    st[0].weather = DG_WEATHER_CLEAR;
    st[1].weather = to;
    n = 2;
    break;
  }
  case DG_CLIP_SEASON:
    if (base.weather == DG_WEATHER_SNOW) base.weather = DG_WEATHER_CLEAR;
    for (int i = 0; i < 3; i++)
      st[i] = base, st[i].season = (dg_world_season)i;
    n = 3;
    break;
  default:
    st[0] = base;
    n = 1;
    break;
  }
  // The scene of frame 0 (visible objects only); motion clips look for a seed variant with a car.
  dg_world_scene *s = &c->base;
  uint8_t *rgb = malloc((size_t)width * height * 3), *label = malloc((size_t)width * height);
  if (!rgb || !label) {
    free(rgb);
    free(label);
    return dg_fail(DG_ERR_OOM, "world clip: out of memory");
  }
  dg_status status = DG_OK;
  for (int attempt = 0; attempt < 24; attempt++) {
    status = dg_world_generate(seed * 31 + (uint64_t)attempt, width, height, st[0], s);
    if (status == DG_OK) status = dg_world_render(s, rgb, label, NULL);
    if (status != DG_OK || c->kind != DG_CLIP_MOTION || count_class(s, DG_WORLD_CAR) > 0) break;
  }
  free(rgb);
  free(label);
  DG_TRY(status);
  s->seed = seed;
  layout_stages(c, n);
  const char *where = place(s);
  for (int i = 0; i < n; i++) {
    c->stages[i].style = st[i];
    c->stages[i].mood = dg_world_mood_of(st[i]);
  }
  switch (c->kind) {
  case DG_CLIP_TIME:
    snprintf(c->caption, sizeof c->caption, "%s from day to night", where);
    for (int i = 0; i < n; i++)
      snprintf(c->stages[i].text, sizeof c->stages[i].text, "%s %s", where,
               i == 0   ? "during the day"
               : i == 1 ? "at sunset"
                        : "at night");
    break;
  case DG_CLIP_WEATHER: {
    dg_world_weather to = st[1].weather;
    snprintf(c->caption, sizeof c->caption, "%s as it starts %s", where,
             to == DG_WEATHER_SNOW   ? "snowing"
             : to == DG_WEATHER_RAIN ? "raining"
                                     : "getting foggy");
    snprintf(c->stages[0].text, sizeof c->stages[0].text, "%s in clear weather", where);
    snprintf(c->stages[1].text, sizeof c->stages[1].text, "%s %s", where,
             to == DG_WEATHER_SNOW   ? "in falling snow"
             : to == DG_WEATHER_RAIN ? "in the rain"
                                     : "in fog");
    break;
  }
  case DG_CLIP_SEASON:
    snprintf(c->caption, sizeof c->caption, "%s from summer to winter", where);
    for (int i = 0; i < n; i++)
      snprintf(c->stages[i].text, sizeof c->stages[i].text, "%s in %s", where, dg_world_season_names[i]);
    break;
  default: {
    int cars = count_class(s, DG_WORLD_CAR);
    const dg_world_object *car = NULL;
    for (int i = 0; i < s->n_objects && !car; i++)
      if (s->objects[i].cls == DG_WORLD_CAR) car = &s->objects[i];
    if (cars == 1)
      snprintf(c->caption, sizeof c->caption, "a %s car driving along %s", dg_world_attr_names[car->attr], where);
    else
      snprintf(c->caption, sizeof c->caption, "%s driving along %s", cars ? "cars" : "clouds", where);
    snprintf(c->stages[0].text, sizeof c->stages[0].text, "%s", c->caption);
  }
  }
  s->style = st[0];
  s->mood = c->stages[0].mood;
  return DG_OK;
}

void dg_world_clip_frame(const dg_world_clip *c, int f, dg_world_scene *s) {
  *s = c->base;
  if (f < 0) f = 0;
  if (f >= c->frames) f = c->frames - 1;
  const dg_world_stage *st = &c->stages[0];
  dg_world_mood mood = st->mood;
  for (int i = 0; i < c->n_stages; i++) {
    const dg_world_stage *a = &c->stages[i];
    if (f >= a->start && f <= a->end) {
      mood = a->mood;
      st = a;
      break;
    }
    if (i + 1 < c->n_stages && f > a->end && f < c->stages[i + 1].start) {
      const dg_world_stage *b = &c->stages[i + 1];
      float t = (float)(f - a->end) / (float)(b->start - a->end);
      mood = dg_world_mood_mix(a->mood, b->mood, t);
      st = t < 0.5f ? a : b;
      break;
    }
  }
  s->mood = mood;
  s->style = st->style;
  s->cloud_shift += 0.0025f * f;
  if (c->kind == DG_CLIP_MOTION) {
    for (int i = 0; i < s->n_objects; i++) {
      dg_world_object *o = &s->objects[i];
      if (o->cls != DG_WORLD_CAR) continue;
      float speed = 7 + 6 * whash_unit(o->hash), dz = o->heading * speed * 0.1f * f;
      o->z += dz;
      o->z1 += dz;
    }
  }
}
