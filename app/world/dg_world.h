// Dirigent's procedural world: outdoor street and country scenes generated from a seed as a scene graph,
// rendered to RGB pixels with an aligned label map, described by captions with token roles, and
// animated into video clips with ground-truth stages. Data and evaluation only: never shown as a
// generated result. Classes and colours are fixed by assets/palettes/world.json (docs/world-format.md).
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dg_png.h"
#include "dg_status.h"

enum {
  DG_WORLD_SKY,
  DG_WORLD_CLOUD,
  DG_WORLD_MOUNTAIN,
  DG_WORLD_WATER,
  DG_WORLD_GRASS,
  DG_WORLD_ROAD,
  DG_WORLD_SIDEWALK,
  DG_WORLD_BUILDING,
  DG_WORLD_TREE,
  DG_WORLD_CAR,
  DG_WORLD_PERSON,
  DG_WORLD_POLE,
  DG_WORLD_FENCE,
  DG_WORLD_SIGN,
  DG_WORLD_NUM_CLASSES,
  DG_WORLD_UNLABELLED = 255,
};

typedef struct dg_world_class {
  const char *name;
  uint8_t rgb[3];
} dg_world_class;
extern const dg_world_class dg_world_classes[DG_WORLD_NUM_CLASSES];
// The world palette for dg_png's label reader and writer.
const dg_png_palette *dg_world_palette(void);

typedef enum { DG_TIME_DAY, DG_TIME_SUNSET, DG_TIME_NIGHT, DG_TIME_COUNT } dg_world_time;
typedef enum { DG_WEATHER_CLEAR, DG_WEATHER_FOG, DG_WEATHER_RAIN, DG_WEATHER_SNOW, DG_WEATHER_COUNT } dg_world_weather;
typedef enum { DG_SEASON_SUMMER, DG_SEASON_AUTUMN, DG_SEASON_WINTER, DG_SEASON_COUNT } dg_world_season;
extern const char *const dg_world_time_names[DG_TIME_COUNT];       // "day", "sunset", "night"
extern const char *const dg_world_weather_names[DG_WEATHER_COUNT]; // "clear", "fog", "rain", "snow"
extern const char *const dg_world_season_names[DG_SEASON_COUNT];   // "summer", "autumn", "winter"

typedef struct dg_world_style {
  dg_world_time time;
  dg_world_weather weather;
  dg_world_season season;
} dg_world_style;

// The continuous form of a style, which video transitions interpolate: time 0 day, 1 sunset, 2 night;
// fog/rain/snow amounts 0..1; season 0 summer, 1 autumn, 2 winter.
typedef struct dg_world_mood {
  float time, fog, rain, snow, season;
} dg_world_mood;
dg_world_mood dg_world_mood_of(dg_world_style style);
dg_world_mood dg_world_mood_mix(dg_world_mood a, dg_world_mood b, float t);

// Colour attributes. Cars use the first six; buildings use red, yellow, white, grey, blue, brown.
typedef enum {
  DG_ATTR_NONE = -1,
  DG_ATTR_RED,
  DG_ATTR_BLUE,
  DG_ATTR_WHITE,
  DG_ATTR_BLACK,
  DG_ATTR_YELLOW,
  DG_ATTR_GREEN,
  DG_ATTR_GREY,
  DG_ATTR_BROWN,
  DG_ATTR_COUNT
} dg_world_attr;
extern const char *const dg_world_attr_names[DG_ATTR_COUNT];

typedef enum { DG_LAYOUT_STREET, DG_LAYOUT_COUNTRY, DG_LAYOUT_COUNT } dg_world_layout;
extern const char *const dg_world_layout_names[DG_LAYOUT_COUNT];

// Ground bands on each side of the road (left = side 0, right = side 1).
typedef enum { DG_SIDE_BUILDINGS, DG_SIDE_PARK, DG_SIDE_WATER, DG_SIDE_FIELD } dg_world_side;

#define DG_WORLD_MAX_OBJECTS 64

// One object of the scene graph, in world metres: the camera looks along +z from (cam_x, cam_height, 0);
// x grows to the right, y up. A building is a block whose street facade is the plane x = `x` from
// z0 to z1, extending `depth` away from the street.
typedef struct dg_world_object {
  int cls;       // DG_WORLD_*: BUILDING, TREE, CAR, PERSON, POLE, FENCE or SIGN
  int instance;  // 1.. (unique within the scene; 0 is "no instance" in instance maps)
  int attr;      // dg_world_attr or DG_ATTR_NONE
  int variant;   // shape variant (tree kind, sign shape, ...)
  float x, z;    // base position (centre of the footprint; facade line for buildings and fences)
  float z1;      // far end (buildings, fences); equal to z otherwise
  float w, h;    // width and height in metres
  float heading; // cars: +1 drives away from the camera, -1 towards it
  uint32_t hash; // per-object randomness (windows lit, texture offsets)
  // Filled by rendering: pixels visible in the final image and the bounding box [x0, x1) x [y0, y1).
  int pixels, bbox[4];
} dg_world_object;

typedef struct dg_world_scene {
  uint64_t seed;
  int width, height;
  dg_world_style style;
  dg_world_mood mood; // what is rendered; equals dg_world_mood_of(style) except inside video transitions
  dg_world_layout layout;
  dg_world_side side[2];
  // Camera: horizon row and vanishing column as fractions of the image, focal length in image heights.
  float horizon, vanish_x, focal, cam_x, cam_height;
  float road_half, walk_width; // road half-width and sidewalk width (metres)
  float water_x;               // lateral start of water on a water side (metres, signed)
  float mountains;             // 0 = none, else ridge height scale
  float cloudiness;            // 0..1
  float cloud_shift;           // horizontal cloud drift (fraction of the width), animated in videos
  float sun_side;              // -1 sun from the left, +1 from the right
  float crossing_z;            // a zebra crossing from this depth on (metres), 0 = none
  int n_objects;
  dg_world_object objects[DG_WORLD_MAX_OBJECTS];
} dg_world_scene;

// Samples a style from a seed (snow only in autumn and winter).
dg_world_style dg_world_style_random(uint64_t seed);
// Generates the scene graph for `seed` at width x height, in `style`; objects that would end up
// (nearly) hidden are removed by dg_world_render's visibility pass.
dg_status dg_world_generate(uint64_t seed, int width, int height, dg_world_style style, dg_world_scene *scene);

// Renders a scene: rgb (w*h*3), label (w*h class ids) and optionally instance (w*h, 0 = stuff).
// Objects covering too few pixels are dropped from `scene` first, so the scene graph (and captions made
// from it) list exactly what is visible; each object's `pixels` and `bbox` are filled.
// `flat` renders every pixel in its class colour (for tests and debugging).
dg_status dg_world_render(dg_world_scene *scene, uint8_t *rgb, uint8_t *label, uint16_t *instance);
dg_status dg_world_render_ex(dg_world_scene *scene, uint8_t *rgb, uint8_t *label, uint16_t *instance, bool flat,
                             bool prune);

// The label map alone of the scene for `seed` at width x height (16..8192 a side; style from
// dg_world_style_random(seed)): the same map dg_world_render gives that scene, shading skipped. The
// editor starts layouts from it; no world-rendered pixels leave this function.
dg_status dg_world_random_labels(uint64_t seed, int width, int height, uint8_t *label);

// Renders an image for a given label map (e.g. a layout a user painted) in `mood`, with textures and
// lighting from the same materials; `seed` picks colours of cars and facades per connected region, unless
// `attr` (may be NULL) gives a pixel's colour attribute (dg_world_attr; 255 = pick by seed).
dg_status dg_world_render_labels(const uint8_t *label, const uint8_t *attr, int width, int height, dg_world_mood mood,
                                 uint64_t seed, uint8_t *rgb);

// Layouts as people paint them (rectangles, polygons, strokes and blobs of classes over a horizon, small
// objects as boxes, some pixels unpainted), from a seed and a settings preset; the test preset differs from
// the training one in its ranges. Writes label (class ids, 255 unlabelled) and attr (each pixel's colour
// attribute, 255 none), and fills `scene` with the style, layout kind and the visible objects (class,
// attribute, pixels, box), from which dg_world_captions describes it.
typedef enum { DG_PAINTED_TRAIN, DG_PAINTED_TEST, DG_PAINTED_COUNT } dg_world_painted_settings;
extern const char *const dg_world_painted_settings_names[DG_PAINTED_COUNT]; // "train", "test"
dg_status dg_world_painted(uint64_t seed, int width, int height, dg_world_painted_settings settings, uint8_t *label,
                           uint8_t *attr, dg_world_scene *scene);

// Captions with token roles (character spans into text).
#define DG_WORLD_MAX_ROLES 16
typedef struct dg_world_role {
  int object[2];    // [start, end) of the object word(s)
  int attribute[2]; // [start, end) of its attribute word, or {-1, -1}
  int cls, attr;    // what the words refer to
  int count;        // how many objects the word stands for (plural words > 1)
} dg_world_role;
typedef struct dg_world_caption {
  char text[256];
  const char *kind; // "short", "list" or "count"
  int n_roles;
  dg_world_role roles[DG_WORLD_MAX_ROLES];
} dg_world_caption;
#define DG_WORLD_MAX_CAPTIONS 4
// Writes up to DG_WORLD_MAX_CAPTIONS captions; returns how many.
int dg_world_captions(const dg_world_scene *scene, dg_world_caption *out);

// Video clips: a transition of the mood or motion of objects, with stages (inclusive frame ranges).
typedef enum { DG_CLIP_TIME, DG_CLIP_WEATHER, DG_CLIP_SEASON, DG_CLIP_MOTION, DG_CLIP_COUNT } dg_world_clip_kind;
extern const char *const dg_world_clip_names[DG_CLIP_COUNT]; // "time", "weather", "season", "motion"
#define DG_WORLD_MAX_STAGES 4
#define DG_WORLD_MAX_FRAMES 256
typedef struct dg_world_stage {
  char text[128];
  int start, end;     // inclusive frame indices where the stage holds
  dg_world_mood mood; // the mood during the stage
  dg_world_style style;
} dg_world_stage;
typedef struct dg_world_clip {
  uint64_t seed;
  int frames;
  dg_world_clip_kind kind;
  char caption[128];
  int n_stages;
  dg_world_stage stages[DG_WORLD_MAX_STAGES];
  dg_world_scene base; // frame 0's scene
} dg_world_clip;
// Plans a clip of `frames` frames (2..DG_WORLD_MAX_FRAMES) for `seed`.
dg_status dg_world_clip_plan(uint64_t seed, int width, int height, int frames, dg_world_clip *clip);
// The scene of frame `f` (mood interpolated between stages, cars and clouds moved).
void dg_world_clip_frame(const dg_world_clip *clip, int f, dg_world_scene *scene);

// JSON text of a scene graph (with its captions) and of dataset index lines. Returned strings are
// malloc'd. `captions` may be NULL (n 0).
char *dg_world_scene_json(const dg_world_scene *scene, const dg_world_caption *captions, int n_captions);
char *dg_world_captions_json(const dg_world_caption *captions, int n_captions);

// Writes one sample into `dir` (image, label, colour label, scene JSON); used by `dirigent-cli world sample`.
dg_status dg_world_write_sample(const char *dir, uint64_t seed, int width, int height, const dg_world_style *style);

typedef struct dg_world_dataset_opts {
  const char *dir;
  const char *split; // "train", "val" or "test"
  int count;
  int width, height;
  bool video;
  int frames; // with video
  // Painted-style layouts (dg_world_painted) rendered by dg_world_render_labels instead of world scenes;
  // their seeds are disjoint from the split's world seeds.
  bool painted;
  dg_world_painted_settings painted_settings;
  int threads;
  int png_level; // deflate level 1..9 (default 1)
  // Called from worker threads after each finished (or skipped) sample; may be NULL.
  void (*progress)(void *user, int done, int total);
  void *user;
} dg_world_dataset_opts;
typedef struct dg_world_dataset_stats {
  int written, skipped;
  double seconds;
} dg_world_dataset_stats;
// The first seed of a split; splits use disjoint ranges [base, base + DG_WORLD_SPLIT_RANGE).
#define DG_WORLD_SPLIT_RANGE 1000000000ull
dg_status dg_world_split_base(const char *split, uint64_t *base);
dg_status dg_world_dataset(const dg_world_dataset_opts *opts, dg_world_dataset_stats *stats);
