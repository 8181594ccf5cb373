// Layouts as people paint them: flat class regions drawn with rectangles, polygons, brush strokes and
// blobs over a horizon (sky, mountains and buildings above; road, sidewalk, grass and water below), small
// objects as boxes and blobs sized by their distance below the horizon, and some pixels left unpainted.
// The world's own layouts come from a 3-D scene; these teach a layout ControlNet what a person's painting
// looks like, and a separate settings preset gives a held-out test split.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_world.h"
#include "dg_world_internal.h"

const char *const dg_world_painted_settings_names[DG_PAINTED_COUNT] = {"train", "test"};

// Generator settings: the test preset differs from training in every range, not only in its seeds.
typedef struct preset {
  float horizon_lo, horizon_hi, tilt;  // horizon row (fraction of the height) and its largest slope
  float p_perspective;                 // road as a trapezoid to a vanishing point (else a band or a stroke)
  float p_street;                      // buildings and sidewalks (else a country scene)
  int objects_lo, objects_hi;          // cars, people, poles and signs
  float p_unlabelled;                  // eraser gaps and unpainted margins
  float size_lo, size_hi;              // object size multiplier
  float brush_lo, brush_hi;            // brush-stroke radius, fraction of the height
} preset;

static const preset presets[DG_PAINTED_COUNT] = {
    {0.33f, 0.58f, 0.00f, 0.60f, 0.55f, 1, 7, 0.35f, 0.8f, 1.2f, 0.03f, 0.07f},
    {0.28f, 0.62f, 0.12f, 0.45f, 0.50f, 2, 9, 0.50f, 0.9f, 1.4f, 0.04f, 0.09f},
};

typedef struct canvas {
  int w, h;
  uint8_t *label, *attr, *inst; // inst: object index + 1 (0 = none) for counting visible pixels
  uint8_t cls, at, id;          // the current paint
} canvas;

static void put(canvas *c, int x, int y) {
  if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
  size_t p = (size_t)y * c->w + x;
  c->label[p] = c->cls;
  c->attr[p] = c->at;
  c->inst[p] = c->id;
}

static void rect(canvas *c, float x0, float y0, float x1, float y1) {
  for (int y = (int)floorf(y0); y < (int)ceilf(y1); y++)
    for (int x = (int)floorf(x0); x < (int)ceilf(x1); x++)
      put(c, x, y);
}

static void ellipse(canvas *c, float cx, float cy, float rx, float ry) {
  rx = fmaxf(rx, 0.5f);
  ry = fmaxf(ry, 0.5f);
  for (int y = (int)floorf(cy - ry); y <= (int)ceilf(cy + ry); y++)
    for (int x = (int)floorf(cx - rx); x <= (int)ceilf(cx + rx); x++) {
      float dx = (x + 0.5f - cx) / rx, dy = (y + 0.5f - cy) / ry;
      if (dx * dx + dy * dy <= 1) put(c, x, y);
    }
}

// Even-odd scanline fill of a polygon (pixel centres).
static void polygon(canvas *c, const float *xs, const float *ys, int n) {
  float lo = ys[0], hi = ys[0];
  for (int i = 1; i < n; i++) {
    lo = fminf(lo, ys[i]);
    hi = fmaxf(hi, ys[i]);
  }
  for (int y = (int)fmaxf(0, floorf(lo)); y <= (int)fminf(c->h - 1, ceilf(hi)); y++) {
    float yc = y + 0.5f, cross[32];
    int m = 0;
    for (int i = 0; i < n && m < 32; i++) {
      int j = (i + 1) % n;
      if ((ys[i] <= yc) != (ys[j] <= yc)) cross[m++] = xs[i] + (yc - ys[i]) / (ys[j] - ys[i]) * (xs[j] - xs[i]);
    }
    for (int a = 1; a < m; a++) // insertion sort: m is small
      for (int b = a; b > 0 && cross[b - 1] > cross[b]; b--) {
        float t = cross[b];
        cross[b] = cross[b - 1];
        cross[b - 1] = t;
      }
    for (int k = 0; k + 1 < m; k += 2)
      for (int x = (int)ceilf(cross[k] - 0.5f); x < (int)ceilf(cross[k + 1] - 0.5f); x++)
        put(c, x, y);
  }
}

// A brush stroke: discs of radius r stamped along the polyline.
static void stroke(canvas *c, const float *xs, const float *ys, int n, float r) {
  for (int i = 0; i + 1 < n; i++) {
    float len = hypotf(xs[i + 1] - xs[i], ys[i + 1] - ys[i]);
    int steps = (int)ceilf(len / fmaxf(0.5f, r * 0.5f)) + 1;
    for (int s = 0; s <= steps; s++) {
      float t = (float)s / steps;
      ellipse(c, xs[i] + t * (xs[i + 1] - xs[i]), ys[i] + t * (ys[i + 1] - ys[i]), r, r);
    }
  }
}

// A lumpy blob: a few overlapping ellipses around (cx, cy).
static void blob(canvas *c, wrng *r, float cx, float cy, float rx, float ry) {
  int n = wrng_int(r, 2, 5);
  for (int i = 0; i < n; i++)
    ellipse(c, cx + wrng_uniform(r, -0.5f, 0.5f) * rx, cy + wrng_uniform(r, -0.4f, 0.4f) * ry,
            rx * wrng_uniform(r, 0.5f, 0.9f), ry * wrng_uniform(r, 0.5f, 0.9f));
}

static void paint(canvas *c, int cls, int attr, int id) {
  c->cls = (uint8_t)cls;
  c->at = attr < 0 ? 255 : (uint8_t)attr;
  c->id = (uint8_t)id;
}

// Starts a new object of the scene; returns its id for the canvas (0 when the scene is full).
static int object(dg_world_scene *s, int cls, int attr) {
  if (s->n_objects >= DG_WORLD_MAX_OBJECTS || s->n_objects >= 254) return 0;
  dg_world_object *o = &s->objects[s->n_objects++];
  memset(o, 0, sizeof *o);
  o->cls = cls;
  o->attr = attr;
  o->instance = s->n_objects;
  return s->n_objects;
}

static const int car_colors[] = {DG_ATTR_RED, DG_ATTR_BLUE, DG_ATTR_WHITE, DG_ATTR_BLACK, DG_ATTR_YELLOW, DG_ATTR_GREEN};
static const int facade_colors[] = {DG_ATTR_RED, DG_ATTR_YELLOW, DG_ATTR_WHITE, DG_ATTR_GREY, DG_ATTR_BLUE, DG_ATTR_BROWN};

typedef struct ground {
  float hz0, slope;     // horizon row at x = 0 and its slope
  float vx;             // vanishing column
  float road_l, road_r; // road edges at the bottom row (perspective roads), else -1
  bool band;            // the road is a horizontal band from band_y down
  float band_y;
} ground;

static float horizon_at(const ground *g, float x) { return g->hz0 + g->slope * x; }

static void paint_ground(canvas *c, wrng *r, const preset *p, bool street, ground *g) {
  int w = c->w, h = c->h;
  // Sky above the horizon, the base ground below it.
  paint(c, DG_WORLD_SKY, -1, 0);
  rect(c, 0, 0, w, h);
  float xs[8], ys[8];
  xs[0] = 0, ys[0] = horizon_at(g, 0), xs[1] = w, ys[1] = horizon_at(g, w), xs[2] = w, ys[2] = h, xs[3] = 0, ys[3] = h;
  paint(c, street ? DG_WORLD_SIDEWALK : DG_WORLD_GRASS, -1, 0);
  polygon(c, xs, ys, 4);
  float hz = horizon_at(g, g->vx);
  // Water: a lake band under the horizon or a region on one side.
  if (wrng_uniform(r, 0, 1) < (street ? 0.1f : 0.4f)) {
    paint(c, DG_WORLD_WATER, -1, 0);
    if (wrng_uniform(r, 0, 1) < 0.5f) {
      float d = wrng_uniform(r, 0.1f, 0.35f) * (h - hz);
      xs[2] = w, ys[2] = horizon_at(g, w) + d, xs[3] = 0, ys[3] = horizon_at(g, 0) + d;
      polygon(c, xs, ys, 4);
    } else {
      bool left = wrng_uniform(r, 0, 1) < 0.5f;
      float x0 = left ? 0 : w, x1 = left ? w * wrng_uniform(r, 0.2f, 0.45f) : w * wrng_uniform(r, 0.55f, 0.8f);
      float px[4] = {x0, x1, x1 + (left ? -1 : 1) * w * 0.1f, x0}, py[4] = {horizon_at(g, x0), horizon_at(g, x1), h, h};
      polygon(c, px, py, 4);
    }
  }
  // The road.
  paint(c, DG_WORLD_ROAD, -1, 0);
  float kind = wrng_uniform(r, 0, 1);
  if (kind < p->p_perspective) {
    float half_top = wrng_uniform(r, 0.5f, 5.0f), half_bot = w * wrng_uniform(r, 0.2f, 0.6f);
    float cx = g->vx + wrng_uniform(r, -0.15f, 0.15f) * w;
    g->road_l = cx - half_bot, g->road_r = cx + half_bot;
    if (street) { // sidewalks: wider trapezoid under the road
      float ext = half_bot * wrng_uniform(r, 0.25f, 0.6f);
      float sx[4] = {g->vx - half_top * 2, g->vx + half_top * 2, g->road_r + ext, g->road_l - ext},
            sy[4] = {hz, hz, h, h};
      paint(c, DG_WORLD_SIDEWALK, -1, 0);
      polygon(c, sx, sy, 4);
      paint(c, DG_WORLD_ROAD, -1, 0);
    }
    float rx[4] = {g->vx - half_top, g->vx + half_top, g->road_r, g->road_l}, ry[4] = {hz, hz, h, h};
    polygon(c, rx, ry, 4);
  } else if (kind < p->p_perspective + (1 - p->p_perspective) * 0.6f) {
    g->band = true;
    g->band_y = hz + (h - hz) * wrng_uniform(r, 0.15f, 0.5f);
    rect(c, 0, g->band_y, w, h - (h - g->band_y) * wrng_uniform(r, 0, 0.3f));
  } else { // a curving brush stroke from the bottom to the horizon
    float bx = w * wrng_uniform(r, 0.2f, 0.8f);
    float px[4] = {bx, bx + w * wrng_uniform(r, -0.2f, 0.2f), g->vx + w * wrng_uniform(r, -0.1f, 0.1f), g->vx},
          py[4] = {h + 4.f, hz + (h - hz) * 0.6f, hz + (h - hz) * 0.25f, hz + 1};
    stroke(c, px, py, 4, h * wrng_uniform(r, 0.08f, 0.2f));
    g->road_l = bx - h * 0.15f, g->road_r = bx + h * 0.15f;
  }
}

static void paint_sky(canvas *c, wrng *r, const ground *g, bool street) {
  int w = c->w;
  if (wrng_uniform(r, 0, 1) < (street ? 0.25f : 0.6f)) { // a mountain ridge
    float xs[12], ys[12];
    int n = wrng_int(r, 3, 8);
    for (int i = 0; i < n; i++) {
      xs[i] = (float)w * i / (n - 1);
      ys[i] = horizon_at(g, xs[i]) - c->h * wrng_uniform(r, 0.05f, 0.3f);
    }
    xs[n] = w, ys[n] = horizon_at(g, w) + 1, xs[n + 1] = 0, ys[n + 1] = horizon_at(g, 0) + 1;
    paint(c, DG_WORLD_MOUNTAIN, -1, 0);
    polygon(c, xs, ys, n + 2);
  }
  int clouds = wrng_uniform(r, 0, 1) < 0.5f ? wrng_int(r, 1, 4) : 0;
  paint(c, DG_WORLD_CLOUD, -1, 0);
  for (int i = 0; i < clouds; i++) {
    float cx = wrng_uniform(r, 0, w), top = horizon_at(g, cx);
    blob(c, r, cx, wrng_uniform(r, 0.05f, 0.6f) * top, w * wrng_uniform(r, 0.05f, 0.15f), top * wrng_uniform(r, 0.08f, 0.2f));
  }
}

// Buildings stand on the horizon (their base a little below it), side by side on the street's two sides.
static void paint_buildings(canvas *c, wrng *r, dg_world_scene *s, const ground *g, bool street) {
  int w = c->w, h = c->h;
  int n = street ? wrng_int(r, 2, 7) : (wrng_uniform(r, 0, 1) < 0.3f ? 1 : 0);
  float x = wrng_uniform(r, -0.1f, 0.1f) * w;
  for (int i = 0; i < n && x < w; i++) {
    float bw = w * wrng_uniform(r, 0.08f, 0.3f);
    float base = horizon_at(g, x + bw / 2) + (h - horizon_at(g, x + bw / 2)) * wrng_uniform(r, 0.0f, 0.25f);
    float top = base - h * wrng_uniform(r, 0.15f, 0.55f);
    // keep the road's mouth free on streets: skip the columns around the vanishing point
    if (street && x < g->vx + w * 0.06f && x + bw > g->vx - w * 0.06f) {
      x = g->vx + w * wrng_uniform(r, 0.06f, 0.12f);
      continue;
    }
    int attr = facade_colors[wrng_next(r) % 6], id = object(s, DG_WORLD_BUILDING, attr);
    paint(c, DG_WORLD_BUILDING, attr, id);
    if (wrng_uniform(r, 0, 1) < 0.3f) { // a facade in perspective: its top slopes towards the vanishing point
      bool near_left = x + bw / 2 < g->vx;
      float t2 = top + (near_left ? 1 : -1) * h * wrng_uniform(r, 0.02f, 0.1f);
      float px[4] = {x, x + bw, x + bw, x}, py[4] = {top, t2, base, base};
      polygon(c, px, py, 4);
    } else {
      rect(c, x, top, x + bw, base);
      if (wrng_uniform(r, 0, 1) < 0.25f) { // a gable roof
        float px[3] = {x, x + bw, x + bw / 2}, py[3] = {top + 0.5f, top + 0.5f, top - bw * 0.3f};
        polygon(c, px, py, 3);
      }
    }
    x += bw + (wrng_uniform(r, 0, 1) < 0.5f ? 0 : w * wrng_uniform(r, 0.0f, 0.1f));
  }
}

static void paint_trees(canvas *c, wrng *r, dg_world_scene *s, const ground *g, const preset *p, bool street) {
  int w = c->w, h = c->h;
  int n = wrng_int(r, 0, street ? 3 : 6);
  for (int i = 0; i < n; i++) {
    float x = wrng_uniform(r, 0, w), hz = horizon_at(g, x);
    float base = hz + (h - hz) * wrng_uniform(r, 0.0f, 0.5f);
    float size = (6 + (base - hz) * 0.8f) * wrng_uniform(r, p->size_lo, p->size_hi);
    int id = object(s, DG_WORLD_TREE, DG_ATTR_NONE);
    paint(c, DG_WORLD_TREE, -1, id);
    rect(c, x - size * 0.06f - 0.5f, base - size, x + size * 0.06f + 0.5f, base);
    blob(c, r, x, base - size, size * 0.45f, size * 0.5f);
  }
  if (wrng_uniform(r, 0, 1) < 0.3f) { // a fence along the ground
    float y = horizon_at(g, w / 2.f) + (h - horizon_at(g, w / 2.f)) * wrng_uniform(r, 0.05f, 0.4f);
    float x0 = wrng_uniform(r, 0, 0.5f) * w, fh = 2 + (y - horizon_at(g, w / 2.f)) * 0.15f;
    int id = object(s, DG_WORLD_FENCE, DG_ATTR_NONE);
    paint(c, DG_WORLD_FENCE, -1, id);
    rect(c, x0, y - fh, x0 + w * wrng_uniform(r, 0.2f, 0.5f), y);
  }
}

// A point on the ground for a small object: on the road for cars, anywhere below the horizon otherwise.
static void ground_point(wrng *r, const canvas *c, const ground *g, bool on_road, float *x, float *y) {
  float hz = horizon_at(g, g->vx);
  for (int tries = 0; tries < 8; tries++) {
    *y = hz + (c->h - hz) * sqrtf(wrng_uniform(r, 0.02f, 1.0f));
    if (!on_road || g->road_l < 0) {
      *x = wrng_uniform(r, 0, c->w);
    } else if (g->band) {
      *y = g->band_y + (c->h - g->band_y) * wrng_uniform(r, 0.2f, 0.8f);
      *x = wrng_uniform(r, 0, c->w);
    } else {
      float t = (*y - hz) / (c->h - hz); // the road's edges at this row
      *x = g->vx + t * (wrng_uniform(r, g->road_l, g->road_r) - g->vx);
    }
    if (*y > horizon_at(g, *x) + 1) return;
  }
}

static void paint_objects(canvas *c, wrng *r, dg_world_scene *s, const ground *g, const preset *p) {
  int n = wrng_int(r, p->objects_lo, p->objects_hi);
  for (int i = 0; i < n; i++) {
    float u = wrng_uniform(r, 0, 1), x, y;
    int cls = u < 0.4f ? DG_WORLD_CAR : u < 0.65f ? DG_WORLD_PERSON : u < 0.85f ? DG_WORLD_POLE : DG_WORLD_SIGN;
    ground_point(r, c, g, cls == DG_WORLD_CAR, &x, &y);
    float d = (y - horizon_at(g, x)) / (c->h - horizon_at(g, x)); // 0 at the horizon, 1 at the bottom
    float k = c->h * (0.07f + 0.33f * d) * wrng_uniform(r, p->size_lo, p->size_hi); // a person's height
    int attr = cls == DG_WORLD_CAR ? car_colors[wrng_next(r) % 6] : DG_ATTR_NONE;
    int id = object(s, cls, attr);
    paint(c, cls, attr, id);
    if (cls == DG_WORLD_CAR) {
      float cw = k * wrng_uniform(r, 1.1f, 2.0f), ch = k * wrng_uniform(r, 0.45f, 0.65f);
      if (wrng_uniform(r, 0, 1) < 0.3f) {
        ellipse(c, x, y - ch / 2, cw / 2, ch / 2); // a blob, as a quick brush dab
      } else {
        rect(c, x - cw / 2, y - ch * 0.6f, x + cw / 2, y);
        rect(c, x - cw * 0.3f, y - ch, x + cw * 0.3f, y - ch * 0.55f); // the cabin
      }
    } else if (cls == DG_WORLD_PERSON) {
      float pw = fmaxf(2, k * wrng_uniform(r, 0.2f, 0.35f));
      rect(c, x - pw / 2, y - k * 0.85f, x + pw / 2, y);
      ellipse(c, x, y - k * 0.9f, pw * 0.45f, k * 0.1f);
    } else {
      float ph = k * wrng_uniform(r, 1.3f, 2.4f), pw = fmaxf(1, k * 0.06f);
      int pole = cls == DG_WORLD_POLE ? id : object(s, DG_WORLD_POLE, DG_ATTR_NONE);
      paint(c, DG_WORLD_POLE, -1, pole);
      rect(c, x - pw / 2, y - ph, x + pw / 2, y);
      if (cls == DG_WORLD_POLE && wrng_uniform(r, 0, 1) < 0.5f) rect(c, x, y - ph, x + k * 0.4f, y - ph + pw); // lamp arm
      if (cls == DG_WORLD_SIGN) { // the sign on top: a square, a disc or a triangle
        float sz = fmaxf(3, k * wrng_uniform(r, 0.3f, 0.5f));
        paint(c, DG_WORLD_SIGN, -1, id);
        float v = wrng_uniform(r, 0, 1);
        if (v < 0.4f)
          rect(c, x - sz / 2, y - ph - sz / 2, x + sz / 2, y - ph + sz / 2);
        else if (v < 0.75f)
          ellipse(c, x, y - ph, sz / 2, sz / 2);
        else {
          float px[3] = {x - sz / 2, x + sz / 2, x}, py[3] = {y - ph + sz / 2, y - ph + sz / 2, y - ph - sz / 2};
          polygon(c, px, py, 3);
        }
      }
    }
  }
}

// What a quick painter leaves: eraser gaps and an unpainted margin.
static void paint_gaps(canvas *c, wrng *r, const preset *p) {
  if (wrng_uniform(r, 0, 1) >= p->p_unlabelled) return;
  paint(c, DG_WORLD_UNLABELLED, -1, 0);
  int n = wrng_int(r, 1, 4);
  for (int i = 0; i < n; i++) { // short eraser dabs
    float xs[2], ys[2], len = c->h * wrng_uniform(r, 0.05f, 0.25f), a = wrng_uniform(r, 0, 6.2832f);
    xs[0] = wrng_uniform(r, 0, c->w), ys[0] = wrng_uniform(r, 0, c->h);
    xs[1] = xs[0] + len * cosf(a), ys[1] = ys[0] + len * sinf(a);
    stroke(c, xs, ys, 2, c->h * wrng_uniform(r, p->brush_lo, p->brush_hi) * 0.4f);
  }
  if (wrng_uniform(r, 0, 1) < 0.4f) { // a margin along one edge
    float m = c->h * wrng_uniform(r, 0.02f, 0.08f);
    switch (wrng_next(r) % 4) {
    case 0: rect(c, 0, 0, m, c->h); break;
    case 1: rect(c, c->w - m, 0, c->w, c->h); break;
    case 2: rect(c, 0, 0, c->w, m); break;
    default: rect(c, 0, c->h - m, c->w, c->h);
    }
  }
}

dg_status dg_world_painted(uint64_t seed, int width, int height, dg_world_painted_settings settings, uint8_t *label,
                           uint8_t *attr, dg_world_scene *scene) {
  if (!label || !attr || !scene || width < 16 || height < 16 || width > 8192 || height > 8192 ||
      (unsigned)settings >= DG_PAINTED_COUNT)
    return dg_fail(DG_ERR_ARG, "world painted: bad arguments (%dx%d, settings %d)", width, height, (int)settings);
  size_t n = (size_t)width * height;
  uint8_t *inst = calloc(n, 1);
  if (!inst) return dg_fail(DG_ERR_OOM, "world painted: out of memory for %dx%d", width, height);
  const preset *p = &presets[settings];
  wrng r = wrng_make(seed, 0x9a17ed + (uint64_t)settings);
  memset(scene, 0, sizeof *scene);
  scene->seed = seed;
  scene->width = width;
  scene->height = height;
  scene->style = dg_world_style_random(seed ^ 0x5eed);
  scene->mood = dg_world_mood_of(scene->style);
  bool street = wrng_uniform(&r, 0, 1) < p->p_street;
  scene->layout = street ? DG_LAYOUT_STREET : DG_LAYOUT_COUNTRY;
  canvas c = {width, height, label, attr, inst, 0, 0, 0};
  ground g = {0};
  float hz = height * wrng_uniform(&r, p->horizon_lo, p->horizon_hi);
  g.slope = wrng_uniform(&r, -p->tilt, p->tilt) * height / width;
  g.vx = width * wrng_uniform(&r, 0.3f, 0.7f);
  g.hz0 = hz - g.slope * g.vx;
  g.road_l = g.road_r = -1;
  scene->horizon = hz / height;
  scene->vanish_x = g.vx / width;
  paint_ground(&c, &r, p, street, &g);
  paint_sky(&c, &r, &g, street);
  paint_buildings(&c, &r, scene, &g, street);
  paint_trees(&c, &r, scene, &g, p, street);
  paint_objects(&c, &r, scene, &g, p);
  paint_gaps(&c, &r, p);
  // Visible pixels and boxes; objects a caption should not name (too small to see) are dropped from the
  // scene, their pixels stay painted.
  for (int i = 0; i < scene->n_objects; i++) {
    scene->objects[i].bbox[0] = width, scene->objects[i].bbox[1] = height;
  }
  for (size_t q = 0; q < n; q++) {
    if (!inst[q]) continue;
    dg_world_object *o = &scene->objects[inst[q] - 1];
    int x = (int)(q % width), y = (int)(q / width);
    o->pixels++;
    if (x < o->bbox[0]) o->bbox[0] = x;
    if (y < o->bbox[1]) o->bbox[1] = y;
    if (x + 1 > o->bbox[2]) o->bbox[2] = x + 1;
    if (y + 1 > o->bbox[3]) o->bbox[3] = y + 1;
  }
  int kept = 0, min_pixels = (int)fmaxf(6, n / 2048.f);
  for (int i = 0; i < scene->n_objects; i++)
    if (scene->objects[i].pixels >= min_pixels) scene->objects[kept++] = scene->objects[i];
  scene->n_objects = kept;
  free(inst);
  return DG_OK;
}
