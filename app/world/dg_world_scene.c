// Classes, styles and the scene-graph generator of the procedural world.
#include <math.h>
#include <string.h>

#include "dg_world.h"
#include "dg_world_internal.h"

// Must match assets/palettes/world.json (tests/world/test_world_scene.c checks it).
const dg_world_class dg_world_classes[DG_WORLD_NUM_CLASSES] = {
    {"sky", {70, 130, 180}},    {"cloud", {220, 220, 235}}, {"mountain", {120, 90, 160}}, {"water", {30, 80, 200}},
    {"grass", {152, 251, 152}}, {"road", {128, 64, 128}},   {"sidewalk", {244, 35, 232}}, {"building", {70, 70, 70}},
    {"tree", {107, 142, 35}},   {"car", {0, 0, 142}},       {"person", {220, 20, 60}},    {"pole", {153, 153, 153}},
    {"fence", {190, 153, 153}}, {"sign", {220, 220, 0}},
};

const char *const dg_world_time_names[DG_TIME_COUNT] = {"day", "sunset", "night"};
const char *const dg_world_weather_names[DG_WEATHER_COUNT] = {"clear", "fog", "rain", "snow"};
const char *const dg_world_season_names[DG_SEASON_COUNT] = {"summer", "autumn", "winter"};
const char *const dg_world_attr_names[DG_ATTR_COUNT] = {"red",    "blue",  "white", "black",
                                                        "yellow", "green", "grey",  "brown"};
const char *const dg_world_layout_names[DG_LAYOUT_COUNT] = {"street", "country"};

static dg_png_palette world_palette;
static pthread_once_t palette_once = PTHREAD_ONCE_INIT;

static void init_palette(void) {
  world_palette.n_classes = DG_WORLD_NUM_CLASSES;
  for (int i = 0; i < DG_WORLD_NUM_CLASSES; i++)
    memcpy(world_palette.rgb[i], dg_world_classes[i].rgb, 3);
  memset(world_palette.unlabelled_rgb, 0, 3);
}

const dg_png_palette *dg_world_palette(void) {
  pthread_once(&palette_once, init_palette);
  return &world_palette;
}

dg_world_mood dg_world_mood_of(dg_world_style s) {
  dg_world_mood m = {(float)s.time, 0, 0, 0, (float)s.season};
  if (s.weather == DG_WEATHER_FOG) m.fog = 1;
  if (s.weather == DG_WEATHER_RAIN) m.rain = 1;
  if (s.weather == DG_WEATHER_SNOW) m.snow = 1;
  return m;
}

dg_world_mood dg_world_mood_mix(dg_world_mood a, dg_world_mood b, float t) {
  return (dg_world_mood){a.time + (b.time - a.time) * t, a.fog + (b.fog - a.fog) * t, a.rain + (b.rain - a.rain) * t,
                         a.snow + (b.snow - a.snow) * t, a.season + (b.season - a.season) * t};
}

dg_world_style dg_world_style_random(uint64_t seed) {
  wrng r = wrng_make(seed, 0x5171e);
  dg_world_style s;
  float t = wrng_uniform(&r, 0, 1), w = wrng_uniform(&r, 0, 1);
  s.time = t < 0.5f ? DG_TIME_DAY : t < 0.72f ? DG_TIME_SUNSET : DG_TIME_NIGHT;
  s.weather = w < 0.45f ? DG_WEATHER_CLEAR : w < 0.6f ? DG_WEATHER_FOG : w < 0.8f ? DG_WEATHER_RAIN : DG_WEATHER_SNOW;
  s.season = (dg_world_season)wrng_int(&r, 0, 2);
  if (s.weather == DG_WEATHER_SNOW && s.season == DG_SEASON_SUMMER)
    s.season = wrng_uniform(&r, 0, 1) < 0.7f ? DG_SEASON_WINTER : DG_SEASON_AUTUMN;
  return s;
}

static dg_world_object *add(dg_world_scene *s, int cls, float x, float z, float w, float h, wrng *r) {
  if (s->n_objects >= DG_WORLD_MAX_OBJECTS) return NULL;
  dg_world_object *o = &s->objects[s->n_objects++];
  memset(o, 0, sizeof *o);
  o->cls = cls;
  o->instance = s->n_objects;
  o->attr = DG_ATTR_NONE;
  o->x = x;
  o->z = o->z1 = z;
  o->w = w;
  o->h = h;
  o->hash = (uint32_t)wrng_next(r);
  return o;
}

static const int car_colors[] = {DG_ATTR_RED,   DG_ATTR_BLUE,   DG_ATTR_WHITE,
                                 DG_ATTR_BLACK, DG_ATTR_YELLOW, DG_ATTR_GREEN};
static const int facade_colors[] = {DG_ATTR_RED,  DG_ATTR_YELLOW, DG_ATTR_WHITE,
                                    DG_ATTR_GREY, DG_ATTR_BLUE,   DG_ATTR_BROWN};

// Distance from the road centre line to the start of the side's band (kerb + sidewalk).
static float band_start(const dg_world_scene *s) { return s->road_half + s->walk_width; }

static void add_buildings(dg_world_scene *s, int side, wrng *r) {
  float sign = side ? 1.f : -1.f, x = sign * (band_start(s) + wrng_uniform(r, 0, 0.5f));
  float z = wrng_uniform(r, 2, 9);
  for (int k = 0; k < 7 && z < 140; k++) {
    float len = wrng_uniform(r, 9, 24), h = wrng_uniform(r, 7, 26);
    dg_world_object *o = add(s, DG_WORLD_BUILDING, x, z, 12, h, r);
    if (!o) return;
    o->z1 = z + len;
    o->attr = facade_colors[wrng_int(r, 0, 5)];
    o->variant = wrng_int(r, 0, 2);
    z += len + (wrng_uniform(r, 0, 1) < 0.15f ? wrng_uniform(r, 2, 5) : 0);
  }
}

static void add_trees(dg_world_scene *s, int side, int n, float x0, float x1, float z0, float z1, wrng *r) {
  float sign = side ? 1.f : -1.f;
  for (int i = 0; i < n; i++) {
    bool conifer = wrng_uniform(r, 0, 1) < (s->style.season == DG_SEASON_WINTER ? 0.45f : 0.25f);
    float h = conifer ? wrng_uniform(r, 6, 11) : wrng_uniform(r, 5, 10);
    dg_world_object *o = add(s, DG_WORLD_TREE, sign * wrng_uniform(r, x0, x1), wrng_uniform(r, z0, z1),
                             conifer ? h * 0.45f : h * 0.7f, h, r);
    if (o) o->variant = conifer;
  }
}

static void add_cars(dg_world_scene *s, wrng *r) {
  int n = wrng_int(r, 0, 4);
  float last[2] = {-100, -100};
  for (int i = 0; i < n; i++) {
    int lane = wrng_int(r, 0, 1);
    float z = wrng_uniform(r, 6, 45);
    if (fabsf(z - last[lane]) < 8) continue;
    last[lane] = z;
    float x = (lane ? 1 : -1) * s->road_half * wrng_uniform(r, 0.4f, 0.6f);
    dg_world_object *o = add(s, DG_WORLD_CAR, x, z, 1.8f, wrng_uniform(r, 1.4f, 1.6f), r);
    if (!o) return;
    o->z1 = z + 4.3f;
    o->heading = lane ? 1 : -1; // right-hand traffic: right lane drives away
    o->attr = car_colors[wrng_int(r, 0, 5)];
    o->variant = wrng_int(r, 0, 1); // 0 saloon, 1 hatchback
  }
}

dg_status dg_world_generate(uint64_t seed, int width, int height, dg_world_style style, dg_world_scene *s) {
  if (width < 16 || height < 16 || width > 8192 || height > 8192)
    return dg_fail(DG_ERR_ARG, "world: image size %dx%d (WxH) must be within 16..8192", width, height);
  if ((unsigned)style.time >= DG_TIME_COUNT || (unsigned)style.weather >= DG_WEATHER_COUNT ||
      (unsigned)style.season >= DG_SEASON_COUNT)
    return dg_fail(DG_ERR_ARG, "world: bad style (time %d, weather %d, season %d)", style.time, style.weather,
                   style.season);
  memset(s, 0, sizeof *s);
  wrng r = wrng_make(seed, 0x5ce7e);
  s->seed = seed;
  s->width = width;
  s->height = height;
  s->style = style;
  s->mood = dg_world_mood_of(style);
  s->layout = wrng_uniform(&r, 0, 1) < 0.68f ? DG_LAYOUT_STREET : DG_LAYOUT_COUNTRY;
  s->horizon = wrng_uniform(&r, 0.40f, 0.50f);
  s->vanish_x = wrng_uniform(&r, 0.40f, 0.60f);
  s->focal = wrng_uniform(&r, 1.0f, 1.25f);
  s->cam_height = wrng_uniform(&r, 1.4f, 1.7f);
  s->cloudiness = wrng_uniform(&r, 0.15f, 0.6f);
  s->cloud_shift = wrng_uniform(&r, 0, 10);
  s->sun_side = wrng_uniform(&r, 0, 1) < 0.5f ? -1.f : 1.f;
  bool street = s->layout == DG_LAYOUT_STREET;
  s->road_half = street ? wrng_uniform(&r, 3.4f, 5.0f) : wrng_uniform(&r, 2.6f, 3.4f);
  s->walk_width = street ? wrng_uniform(&r, 2.0f, 3.5f) : 0;
  s->cam_x = wrng_uniform(&r, -0.4f, 0.4f) * s->road_half;
  s->mountains = wrng_uniform(&r, 0, 1) < (street ? 0.35f : 0.85f) ? wrng_uniform(&r, 0.6f, 1.4f) : 0;
  s->crossing_z = street && wrng_uniform(&r, 0, 1) < 0.3f ? wrng_uniform(&r, 9, 25) : 0;
  for (int side = 0; side < 2; side++) {
    float u = wrng_uniform(&r, 0, 1);
    if (street)
      s->side[side] = u < 0.72f ? DG_SIDE_BUILDINGS : u < 0.88f ? DG_SIDE_PARK : DG_SIDE_WATER;
    else
      s->side[side] = u < 0.6f ? DG_SIDE_FIELD : u < 0.8f ? DG_SIDE_PARK : DG_SIDE_WATER;
  }
  if (s->side[0] == DG_SIDE_WATER && s->side[1] == DG_SIDE_WATER)
    s->side[1] = street ? DG_SIDE_BUILDINGS : DG_SIDE_FIELD;
  s->water_x = band_start(s) + (street ? 0.5f : wrng_uniform(&r, 1.5f, 6.0f));

  for (int side = 0; side < 2; side++) {
    float sign = side ? 1.f : -1.f, b = band_start(s);
    switch (s->side[side]) {
    case DG_SIDE_BUILDINGS:
      add_buildings(s, side, &r);
      if (wrng_uniform(&r, 0, 1) < 0.4f)
        add_trees(s, side, wrng_int(&r, 1, 2), s->road_half + 0.8f, s->road_half + 1.2f, 8, 40, &r);
      break;
    case DG_SIDE_PARK: add_trees(s, side, wrng_int(&r, 1, 4), b + 1.5f, b + 14, 7, 60, &r); break;
    case DG_SIDE_FIELD: add_trees(s, side, wrng_int(&r, 0, 3), b + 3, b + 30, 10, 90, &r); break;
    case DG_SIDE_WATER: break;
    }
    // Fences: a railing along water, sometimes a wooden fence along parks and fields.
    if (s->side[side] == DG_SIDE_WATER || (s->side[side] != DG_SIDE_BUILDINGS && wrng_uniform(&r, 0, 1) < 0.5f)) {
      float fx = s->side[side] == DG_SIDE_WATER ? s->water_x - 0.3f : b + 0.4f;
      float z0 = wrng_uniform(&r, 3, 12);
      dg_world_object *o = add(s, DG_WORLD_FENCE, sign * fx, z0, 0.1f, wrng_uniform(&r, 1.0f, 1.3f), &r);
      if (o) {
        o->z1 = z0 + wrng_uniform(&r, 15, 60);
        o->variant = s->side[side] == DG_SIDE_WATER; // 1 metal railing, 0 wooden
      }
    }
  }
  // Street lamps along the kerb, evenly spaced on one or both sides.
  int lamps = wrng_int(&r, 0, street ? 4 : 2);
  float spacing = wrng_uniform(&r, 14, 24), z = wrng_uniform(&r, 6, 14);
  for (int i = 0; i < lamps; i++, z += spacing) {
    int side = wrng_int(&r, 0, 1);
    dg_world_object *o =
        add(s, DG_WORLD_POLE, (side ? 1 : -1) * (s->road_half + 0.45f), z, 0.16f, wrng_uniform(&r, 6, 8), &r);
    if (o) o->heading = side ? -1 : 1; // the arm points over the road
  }
  int signs = wrng_int(&r, 0, 2);
  for (int i = 0; i < signs; i++) {
    int side = wrng_int(&r, 0, 1);
    dg_world_object *o =
        add(s, DG_WORLD_SIGN, (side ? 1 : -1) * (s->road_half + 0.7f), wrng_uniform(&r, 6, 30), 0.65f, 2.6f, &r);
    if (o) o->variant = wrng_int(&r, 0, 2);
  }
  int people = wrng_int(&r, 0, street ? 4 : 2);
  for (int i = 0; i < people; i++) {
    int side = wrng_int(&r, 0, 1);
    float x = street ? s->road_half + wrng_uniform(&r, 0.6f, s->walk_width - 0.4f)
                     : s->road_half + wrng_uniform(&r, 0.3f, 1.2f);
    add(s, DG_WORLD_PERSON, (side ? 1 : -1) * x, wrng_uniform(&r, 5, 32), 0.5f, wrng_uniform(&r, 1.55f, 1.9f), &r);
  }
  add_cars(s, &r);
  return DG_OK;
}
