// Scene graph -> pixels. A pinhole camera looks along +z; the ground, sky, clouds and mountains are
// shaded per pixel, every object is a set of textured vertical planes (facades, car faces, billboards)
// drawn with a depth test. Every pixel is written together with its class (and instance), so the label
// map is aligned with the image by construction. Lighting, fog, snow and rain come from the scene's
// mood through one `look`, so they change the whole image consistently.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_world.h"
#include "dg_world_internal.h"

typedef struct v3 {
  float r, g, b;
} v3;
static inline v3 V(float r, float g, float b) { return (v3){r, g, b}; }
static inline v3 vmix(v3 a, v3 b, float t) {
  return V(a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t);
}
static inline v3 vs(v3 a, float s) { return V(a.r * s, a.g * s, a.b * s); }
static inline v3 vmul(v3 a, v3 b) { return V(a.r * b.r, a.g * b.g, a.b * b.b); }
static inline v3 vadd(v3 a, v3 b) { return V(a.r + b.r, a.g + b.g, a.b + b.b); }
static inline float lum(v3 a) { return 0.3f * a.r + 0.59f * a.g + 0.11f * a.b; }
static inline float clampf(float x, float lo, float hi) { return x < lo ? lo : x > hi ? hi : x; }
static inline float smooth(float e0, float e1, float x) {
  float t = clampf((x - e0) / (e1 - e0), 0, 1);
  return t * t * (3 - 2 * t);
}
// floorf(x) as an integer, for |x| < 2^63: much cheaper than floorf without SSE4.1, and exact.
static inline int64_t ifloor(float x) {
  int64_t i = (int64_t)x;
  return i - (x < (float)i);
}
static inline float fractf(float x) { return x - (float)ifloor(x); }
static inline v3 key3(const v3 *k, float t) { return t < 1 ? vmix(k[0], k[1], t) : vmix(k[1], k[2], t - 1); }
static inline float key1(const float *k, float t) {
  return t < 1 ? k[0] + (k[1] - k[0]) * t : k[1] + (k[2] - k[1]) * (t - 1);
}

// ---------------------------------------------------------------------------------------------
// Value noise from a 256x256 table, smoothly interpolated and wrapping.

static float noise_table[256 * 256];
static pthread_once_t noise_once = PTHREAD_ONCE_INIT;
static void init_noise(void) {
  for (int i = 0; i < 256 * 256; i++)
    noise_table[i] = whash_unit(whash((uint32_t)i + 0x51u));
}

static inline float noise2(float x, float y) {
  int64_t fx = ifloor(x), fy = ifloor(y);
  float tx = x - (float)fx, ty = y - (float)fy;
  int ix = (int)(fx & 255), iy = (int)(fy & 255), jx = (ix + 1) & 255, jy = (iy + 1) & 255;
  tx = tx * tx * (3 - 2 * tx);
  ty = ty * ty * (3 - 2 * ty);
  const float *a = noise_table + iy * 256, *b = noise_table + jy * 256;
  float top = a[ix] + (a[jx] - a[ix]) * tx, bot = b[ix] + (b[jx] - b[ix]) * tx;
  return top + (bot - top) * ty;
}

static inline float fbm2(float x, float y, int octaves) {
  float sum = 0, amp = 0.5f, norm = 0;
  for (int i = 0; i < octaves; i++) {
    sum += amp * noise2(x, y);
    norm += amp;
    x = x * 2.03f + 17.1f;
    y = y * 2.03f + 5.3f;
    amp *= 0.5f;
  }
  return sum / norm;
}

// ---------------------------------------------------------------------------------------------
// The look: every lighting and weather parameter, derived from the mood.

typedef struct look {
  v3 sky_top, sky_hor, sun, amb, fog_col, cloud_lit, cloud_dark, grass, snow, lamp, glow;
  float lx, ly, lz; // unit vector towards the sun (or moon)
  float night, stars, overcast, fog_k, fog_max, rain, snowfall, cover, season, leaf_density, cloud_cov;
  float sun_px, sun_py, sun_vis;
} look;

static look make_look(const dg_world_scene *s, float f, float cx, float hy) {
  look L;
  dg_world_mood m = s->mood;
  float t = clampf(m.time, 0, 2), fog = clampf(m.fog, 0, 1), rain = clampf(m.rain, 0, 1), snow = clampf(m.snow, 0, 1);
  float season = clampf(m.season, 0, 2);
  static const v3 sky_top[3] = {{0.22f, 0.45f, 0.82f}, {0.26f, 0.22f, 0.50f}, {0.015f, 0.025f, 0.08f}};
  static const v3 sky_hor[3] = {{0.66f, 0.80f, 0.94f}, {0.99f, 0.56f, 0.28f}, {0.06f, 0.08f, 0.17f}};
  static const v3 sun[3] = {{1.05f, 1.00f, 0.92f}, {1.05f, 0.62f, 0.32f}, {0.10f, 0.12f, 0.20f}};
  static const v3 amb[3] = {{0.55f, 0.60f, 0.68f}, {0.36f, 0.30f, 0.38f}, {0.09f, 0.10f, 0.17f}};
  static const v3 cloud[3] = {{1.0f, 1.0f, 1.0f}, {1.0f, 0.70f, 0.55f}, {0.20f, 0.22f, 0.30f}};
  static const float elev[3] = {0.85f, 0.09f, 0.7f}, lat[3] = {0.75f, 0.35f, 0.6f}, ahead[3] = {-0.45f, 0.93f, -0.3f};
  L.sky_top = key3(sky_top, t);
  L.sky_hor = key3(sky_hor, t);
  L.sun = key3(sun, t);
  L.amb = key3(amb, t);
  L.cloud_lit = key3(cloud, t);
  float e = key1(elev, t), la = key1(lat, t), ah = key1(ahead, t);
  float lx = s->sun_side * la * cosf(e), ly = sinf(e), lz = ah * cosf(e), n = sqrtf(lx * lx + ly * ly + lz * lz);
  L.lx = lx / n;
  L.ly = ly / n;
  L.lz = lz / n;
  L.night = smooth(0.85f, 1.8f, t);
  L.stars = smooth(1.5f, 2.0f, t);
  L.overcast = clampf(fmaxf(fmaxf(rain, snow), 0.8f * fog), 0, 1);
  float oc = L.overcast;
  L.sun = vs(L.sun, 1 - 0.88f * oc);
  L.amb = vs(L.amb, 1 + 0.45f * oc);
  float g = lum(L.sky_hor) * 0.85f;
  L.sky_top = vmix(L.sky_top, V(g * 0.9f, g * 0.92f, g * 0.97f), 0.8f * oc);
  L.sky_hor = vmix(L.sky_hor, V(g, g, g * 1.02f), 0.7f * oc);
  L.cloud_lit = vmix(L.cloud_lit, vs(L.cloud_lit, 0.62f), oc);
  L.cloud_dark = vs(L.cloud_lit, 0.62f);
  L.cloud_cov = clampf(s->cloudiness + oc * 0.55f, 0, 0.95f);
  L.fog_k = fog / 26.0f + rain / 150.0f + snow / 90.0f + 1 / 1200.0f;
  L.fog_max = 0.55f + 0.37f * fmaxf(fog, 0.5f * fmaxf(rain, snow));
  L.fog_col = vmix(L.sky_hor, V(g, g, g), 0.5f);
  L.rain = rain;
  L.snowfall = snow;
  L.season = season;
  L.cover = fmaxf(0.9f * snow, 0.9f * smooth(1.4f, 1.95f, season));
  L.leaf_density = 1 - smooth(1.25f, 1.9f, season);
  static const v3 grass[3] = {{0.26f, 0.50f, 0.14f}, {0.55f, 0.48f, 0.20f}, {0.42f, 0.40f, 0.30f}};
  L.grass = key3(grass, season);
  L.snow = V(0.93f, 0.95f, 1.0f);
  L.lamp = vs(V(1.0f, 0.82f, 0.5f), L.night);
  L.glow = vs(V(1.0f, 0.6f, 0.3f), (1 - oc) * (1 - L.night));
  L.sun_vis = 0;
  if (L.lz > 0.2f) {
    L.sun_px = cx + f * L.lx / L.lz;
    L.sun_py = hy - f * L.ly / L.lz;
    L.sun_vis = (1 - oc) * (1 - L.night) * smooth(0.6f, 0.1f, fabsf(t - 1)); // a low sun only near sunset
  }
  return L;
}

// ---------------------------------------------------------------------------------------------
// The render context and the framebuffer.

typedef struct glow {
  float x, y, radius;
  v3 c;
} glow;

typedef struct rctx {
  dg_world_scene *sc;
  int W, H;
  float f, cx, hy, hc, camx;
  look L;
  float *rgb, *depth, *sun_shadow, *ao;
  uint8_t *label;
  uint16_t *inst;
  int *drawn;
  bool flat;
  int n_glow;
  glow glows[96];
  int n_lamps;
  float lamps[16][3]; // x, y, z of lamp heads
  int n_casters;
  const dg_world_object *casters[DG_WORLD_MAX_OBJECTS]; // buildings on the sun's side
} rctx;

typedef struct surf {
  v3 a, e;   // albedo, emission
  float ndl; // cosine of the surface normal with the sun direction
} surf;

static void add_glow(rctx *r, float x, float y, float radius, v3 c) {
  if (r->n_glow < (int)(sizeof r->glows / sizeof r->glows[0])) r->glows[r->n_glow++] = (glow){x, y, radius, c};
}

static inline v3 fogged(const rctx *r, v3 c, float z) {
  float k = (1 - expf(-z * r->L.fog_k)) * r->L.fog_max;
  return vmix(c, r->L.fog_col, k);
}

static inline float fog_factor(const rctx *r, float z) { return (1 - expf(-z * r->L.fog_k)) * r->L.fog_max; }

// Lit and fogged colour of a surface; `fog` is fog_factor() of its depth.
static inline v3 lit_fog(const rctx *r, const surf *s, float shadow, float ao, float fog) {
  const look *L = &r->L;
  float d = fmaxf(s->ndl, 0) * shadow;
  v3 light = V(L->amb.r * ao + L->sun.r * d, L->amb.g * ao + L->sun.g * d, L->amb.b * ao + L->sun.b * d);
  return vmix(vadd(vmul(s->a, light), s->e), L->fog_col, fog);
}

static inline v3 lit(const rctx *r, const surf *s, float shadow, float ao, float z) {
  return lit_fog(r, s, shadow, ao, fog_factor(r, z));
}

static inline void put(rctx *r, int p, float z, int cls, int oi, v3 c) {
  if (oi >= 0) r->drawn[oi]++;
  if (z >= r->depth[p]) return;
  r->depth[p] = z;
  r->label[p] = (uint8_t)cls;
  r->inst[p] = oi >= 0 ? (uint16_t)r->sc->objects[oi].instance : 0;
  float *o = r->rgb + 3 * (size_t)p;
  if (r->flat)
    c = V(dg_world_classes[cls].rgb[0] / 255.f, dg_world_classes[cls].rgb[1] / 255.f,
          dg_world_classes[cls].rgb[2] / 255.f);
  o[0] = c.r;
  o[1] = c.g;
  o[2] = c.b;
}

// Is the world point (x, y, z) in the shadow of a building on the sun's side of the street?
static float building_shadow(const rctx *r, float x, float y, float z) {
  const look *L = &r->L;
  for (int i = 0; i < r->n_casters; i++) {
    const dg_world_object *o = r->casters[i];
    float t = (o->x - x) / L->lx;
    if (t <= 0.01f) continue;
    float zz = z + t * L->lz, yy = y + t * L->ly;
    if (zz >= o->z && zz <= o->z1 && yy < o->h) return 0;
  }
  return 1;
}

// ---------------------------------------------------------------------------------------------
// Materials

static v3 attr_color(int attr, bool car) {
  switch (attr) {
  case DG_ATTR_RED: return car ? V(0.72f, 0.06f, 0.05f) : V(0.58f, 0.22f, 0.15f);
  case DG_ATTR_BLUE: return car ? V(0.08f, 0.18f, 0.62f) : V(0.42f, 0.55f, 0.78f);
  case DG_ATTR_WHITE: return car ? V(0.88f, 0.88f, 0.88f) : V(0.88f, 0.86f, 0.80f);
  case DG_ATTR_BLACK: return V(0.05f, 0.05f, 0.06f);
  case DG_ATTR_YELLOW: return car ? V(0.92f, 0.72f, 0.06f) : V(0.90f, 0.76f, 0.36f);
  case DG_ATTR_GREEN: return V(0.08f, 0.45f, 0.16f);
  case DG_ATTR_GREY: return V(0.52f, 0.52f, 0.54f);
  case DG_ATTR_BROWN: return V(0.42f, 0.28f, 0.18f);
  default: return V(0.5f, 0.5f, 0.5f);
  }
}

static v3 asphalt(const rctx *r, float x, float z, float fine) {
  float n = noise2(x * 0.35f + 3.1f, z * 0.35f);
  float grain = fine > 0 ? (noise2(x * 9, z * 9) - 0.5f) * 0.18f * fine : 0;
  float g = 0.25f * (0.85f + 0.35f * n + grain);
  v3 c = V(g, g, g * 1.04f);
  if (r->L.rain > 0) c = vs(c, 1 - 0.45f * r->L.rain);
  return c;
}

static v3 paving(float x, float z, float fine) {
  float n = fbm2(x * 0.6f, z * 0.6f, 2);
  float g = 0.60f * (0.88f + 0.2f * n);
  v3 c = V(g, g * 0.97f, g * 0.92f);
  if (fine > 0) {
    float gx = fractf(x / 0.6f), gz = fractf(z / 0.6f);
    float joint = (gx < 0.07f || gz < 0.07f) ? 0.75f : 1.0f;
    c = vs(c, 1 + (joint - 1) * fine);
  }
  return c;
}

static v3 grass_color(const rctx *r, float x, float z, float fine) {
  float n = fbm2(x * 0.25f + 11, z * 0.25f, 2);
  v3 c = vs(r->L.grass, 0.72f + 0.55f * n);
  if (fine > 0) c = vs(c, 1 + (noise2(x * 6, z * 6) - 0.5f) * 0.45f * fine);
  return c;
}

static inline v3 snow_over(const rctx *r, v3 c, float x, float z, float amount) {
  if (r->L.cover <= 0) return c;
  float n = noise2(x * 0.9f + 7, z * 0.9f);
  float k = clampf(r->L.cover * amount * (1.25f - 0.5f * n), 0, 1);
  return vmix(c, vs(r->L.snow, 0.92f + 0.08f * n), k);
}

// The ground at world point (x, z); `markings` draws lane lines and the zebra crossing.
static int ground(const rctx *r, float x, float z, float fine, bool markings, v3 *out) {
  const dg_world_scene *s = r->sc;
  float d = fabsf(x);
  int side = x > 0;
  if (!out) {
    if (d < s->road_half) return DG_WORLD_ROAD;
    if (s->side[side] == DG_SIDE_WATER && d > s->water_x) return DG_WORLD_WATER;
    if (s->walk_width > 0 && (d < s->road_half + s->walk_width || s->side[side] == DG_SIDE_BUILDINGS))
      return DG_WORLD_SIDEWALK;
    return DG_WORLD_GRASS;
  }
  if (d < s->road_half) {
    v3 c = asphalt(r, x, z, fine);
    if (markings) {
      bool line = false;
      if (fabsf(x) < 0.08f && fractf(z / 9.0f) < 0.35f) line = true;
      if (d > s->road_half - 0.38f && d < s->road_half - 0.23f) line = true;
      if (s->crossing_z > 0 && z > s->crossing_z && z < s->crossing_z + 3.2f && fractf(x / 1.1f) < 0.5f) line = true;
      if (line) c = vmix(c, V(0.85f, 0.85f, 0.82f), 0.85f * (1 - 0.4f * r->L.rain));
    }
    // Snow lies on the road except in the wheel tracks.
    float tracks = 1;
    for (int l = -1; l <= 1 && r->L.cover > 0; l += 2) {
      float lane = l * s->road_half * 0.5f;
      float dt = fabsf(fabsf(x - lane) - 0.8f);
      if (dt < 0.2f) tracks = fminf(tracks, 0.6f + 0.4f * dt / 0.2f);
    }
    *out = snow_over(r, c, x, z, tracks);
    if (r->L.rain > 0) *out = vmix(*out, r->L.sky_hor, 0.22f * r->L.rain * smooth(3, 25, z));
    return DG_WORLD_ROAD;
  }
  dg_world_side band = s->side[side];
  if (band == DG_SIDE_WATER && d > s->water_x) {
    float rip = noise2(x * 0.7f, z * 2.6f) - 0.5f;
    v3 c = vmix(V(0.05f, 0.16f, 0.26f), r->L.sky_hor, 0.25f + 0.5f * smooth(5, 80, z));
    c = vs(c, 1 + rip * 0.5f * (1 - smooth(10, 60, z)));
    *out = c;
    return DG_WORLD_WATER;
  }
  if (s->walk_width > 0 && (d < s->road_half + s->walk_width || band == DG_SIDE_BUILDINGS)) {
    v3 c = d < s->road_half + 0.2f ? V(0.72f, 0.71f, 0.68f) : paving(x, z, fine);
    if (r->L.rain > 0) c = vs(c, 1 - 0.35f * r->L.rain);
    *out = snow_over(r, c, x, z, 1);
    return DG_WORLD_SIDEWALK;
  }
  *out = snow_over(r, grass_color(r, x, z, fine), x, z, 1.1f);
  return DG_WORLD_GRASS;
}

// ---------------------------------------------------------------------------------------------
// Sky, clouds and mountains (above the horizon)

static float ridge(const rctx *r, float px) {
  const dg_world_scene *s = r->sc;
  float u = px / r->W + (float)(s->seed % 97) * 0.37f;
  float n = noise2(u * 3.5f, 0.5f) * 0.6f + noise2(u * 9, 1.5f) * 0.28f + noise2(u * 27, 2.5f) * 0.12f;
  return r->H * (0.03f + 0.2f * s->mountains * n * n * 1.6f);
}

static void sky_pixel(rctx *r, int px, int py, float ridge_px, v3 grad) {
  const look *L = &r->L;
  const dg_world_scene *s = r->sc;
  int p = py * r->W + px;
  float x = px + 0.5f, y = py + 0.5f;
  if (r->flat) {
    int cls = DG_WORLD_SKY;
    if (s->mountains > 0 && y > r->hy - ridge_px)
      cls = DG_WORLD_MOUNTAIN;
    else if (L->cloud_cov > 0 && y < r->hy - 0.5f) {
      float zc = r->f * 800 / (r->hy - y), xc = (x - r->cx) * zc / r->f + s->cloud_shift * 3000;
      if (zc < 30000 && fbm2(xc / 1400, zc / 900, zc > 6000 ? 2 : 3) > 0.70f - 0.42f * L->cloud_cov)
        cls = DG_WORLD_CLOUD;
    }
    put(r, p, cls == DG_WORLD_SKY ? 1e5f : cls == DG_WORLD_MOUNTAIN ? 3000 : 1e5f, cls, -1, V(0, 0, 0));
    return;
  }
  if (s->mountains > 0 && y > r->hy - ridge_px) {
    float hfrac = (r->hy - y) / fmaxf(ridge_px, 1);
    float n = fbm2(x / r->H * 14, y / r->H * 22, 2);
    v3 rock = vmix(V(0.30f, 0.31f, 0.36f), V(0.42f, 0.40f, 0.38f), n);
    float snowline = 1 - (0.18f + 0.7f * L->cover) + (n - 0.5f) * 0.3f;
    if (hfrac > snowline) rock = V(0.86f, 0.88f, 0.93f);
    if (L->season > 0.5f && L->season < 1.6f && hfrac < 0.35f) rock = vmix(rock, V(0.45f, 0.32f, 0.18f), 0.5f);
    float shade = 0.6f + 0.55f * (noise2(x / r->H * 30, y / r->H * 8) - 0.3f);
    surf sf = {rock, V(0, 0, 0), shade * (0.5f + 0.5f * L->ly)};
    v3 c = lit(r, &sf, 1, 1, 3000);
    c = vmix(c, L->sky_hor, (0.35f + 0.25f * (1 - hfrac)) * (1 - 0.6f * L->night));
    put(r, p, 3000, DG_WORLD_MOUNTAIN, -1, c);
    return;
  }
  v3 c = grad;
  if (L->sun_vis > 0) {
    float dx = (x - L->sun_px) / r->H, dy = (y - L->sun_py) / r->H, d2 = dx * dx + dy * dy;
    c = vadd(c, vs(L->glow, L->sun_vis * (0.7f * expf(-d2 * 25) + 0.3f * expf(-sqrtf(d2) * 3))));
    if (d2 < 0.0012f) c = vmix(c, V(1.0f, 0.92f, 0.75f), L->sun_vis);
  }
  int cls = DG_WORLD_SKY;
  if (L->cloud_cov > 0 && y < r->hy - 0.5f) {
    float zc = r->f * 800 / (r->hy - y), xc = (x - r->cx) * zc / r->f + s->cloud_shift * 3000;
    if (zc < 30000) {
      float n = fbm2(xc / 1400, zc / 900, zc > 6000 ? 2 : 3);
      float th = 0.70f - 0.42f * L->cloud_cov;
      if (n > th) {
        float k = clampf((n - th) / 0.12f, 0, 1);
        float top = noise2(xc / 500 + 3, zc / 400) * 0.5f + 0.5f;
        v3 cc = vmix(L->cloud_dark, L->cloud_lit, clampf(0.35f + 0.65f * top * (1 - 0.4f * k), 0, 1));
        if (L->sun_vis > 0) cc = vadd(cc, vs(L->glow, 0.25f * L->sun_vis));
        c = vmix(c, cc, 0.45f + 0.55f * k);
        cls = DG_WORLD_CLOUD;
      }
    }
  }
  if (L->stars > 0 && cls == DG_WORLD_SKY &&
      whash2((uint32_t)px * 7 + 1, (uint32_t)py * 13 + (uint32_t)s->seed) <
          (uint32_t)(L->stars * (1 - L->overcast) * 0.006f * 4294967295.0f))
    c = vadd(c, V(0.6f, 0.6f, 0.65f));
  float fog = fmaxf(clampf(s->mood.fog, 0, 1), 0.6f * L->overcast);
  c = vmix(c, L->fog_col, fog * 0.8f);
  put(r, p, 1e5f, cls, -1, c);
}

// ---------------------------------------------------------------------------------------------
// Plane drawing: a side plane x = const (facades, car sides, fences) or a front plane z = const.

typedef bool (*shader_fn)(rctx *r, const dg_world_object *o, float u, float v, float z, surf *out);

// Draws the plane x = xp for z in [z0, z1] and heights [v0, v1]; the shader gets u = z.
static void draw_side(rctx *r, int oi, float xp, float z0, float z1, float v0, float v1, float ndl, shader_fn sh) {
  const dg_world_object *o = &r->sc->objects[oi];
  bool solid = o->cls == DG_WORLD_BUILDING; // opaque everywhere: no shader needed for the silhouette
  float dx = xp - r->camx;
  if (fabsf(dx) < 0.05f) return;
  z0 = fmaxf(z0, 0.8f);
  if (z1 <= z0) return;
  float a = r->cx + r->f * dx / z0, b = r->cx + r->f * dx / z1;
  int x0 = (int)floorf(fminf(a, b)), x1 = (int)ceilf(fmaxf(a, b));
  if (x0 < 0) x0 = 0;
  if (x1 > r->W) x1 = r->W;
  for (int px = x0; px < x1; px++) {
    float den = px + 0.5f - r->cx;
    if (den * dx <= 0) continue;
    float z = r->f * dx / den;
    if (z < z0 || z > z1) continue;
    int y0 = (int)floorf(r->hy - r->f * (v1 - r->hc) / z), y1 = (int)ceilf(r->hy - r->f * (v0 - r->hc) / z);
    if (y0 < 0) y0 = 0;
    if (y1 > r->H) y1 = r->H;
    float fog = fog_factor(r, z);
    for (int py = y0; py < y1; py++) {
      float v = r->hc + (r->hy - py - 0.5f) * z / r->f;
      if (v < v0 || v > v1) continue;
      int p = py * r->W + px;
      surf s = {.ndl = ndl};
      if (z >= r->depth[p] && !r->flat) continue; // hidden: visibility is counted in the flat passes
      if (!(r->flat && solid) && !sh(r, o, z, v, z, &s)) continue;
      if (z >= r->depth[p]) {
        r->drawn[oi]++;
        continue;
      }
      float shadow = !r->flat && s.ndl > 0 ? building_shadow(r, xp, v, z) : 1;
      put(r, p, z, o->cls, oi, r->flat ? V(0, 0, 0) : lit_fog(r, &s, shadow, 1, fog));
    }
  }
}

// Draws the plane z = zp for x in [xa, xb] and heights [v0, v1]; the shader gets u = x - o->x.
static void draw_front(rctx *r, int oi, float zp, float xa, float xb, float v0, float v1, float ndl, shader_fn sh) {
  const dg_world_object *o = &r->sc->objects[oi];
  bool solid = o->cls == DG_WORLD_BUILDING;
  if (zp < 0.8f) return;
  int x0 = (int)floorf(r->cx + r->f * (xa - r->camx) / zp), x1 = (int)ceilf(r->cx + r->f * (xb - r->camx) / zp);
  int y0 = (int)floorf(r->hy - r->f * (v1 - r->hc) / zp), y1 = (int)ceilf(r->hy - r->f * (v0 - r->hc) / zp);
  if (x0 < 0) x0 = 0;
  if (x1 > r->W) x1 = r->W;
  if (y0 < 0) y0 = 0;
  if (y1 > r->H) y1 = r->H;
  float fog = fog_factor(r, zp);
  for (int py = y0; py < y1; py++) {
    float v = r->hc + (r->hy - py - 0.5f) * zp / r->f;
    if (v < v0 || v > v1) continue;
    for (int px = x0; px < x1; px++) {
      float x = r->camx + (px + 0.5f - r->cx) * zp / r->f;
      if (x < xa || x > xb) continue;
      int p = py * r->W + px;
      surf s = {.ndl = ndl};
      if (zp >= r->depth[p] && !r->flat) continue;
      if (!(r->flat && solid) && !sh(r, o, x - o->x, v, zp, &s)) continue;
      if (zp >= r->depth[p]) {
        r->drawn[oi]++;
        continue;
      }
      float shadow = !r->flat && s.ndl > 0 ? building_shadow(r, x, v, zp) : 1;
      put(r, p, zp, o->cls, oi, r->flat ? V(0, 0, 0) : lit_fog(r, &s, shadow, 1, fog));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Object shaders. u, v in metres on the plane; z the depth (for level of detail).

static v3 wall_texture(const rctx *r, const dg_world_object *o, float u, float v, float z) {
  v3 base = attr_color(o->attr, false);
  float fine = 1 - smooth(8, 30, z);
  float off = (float)(o->hash & 255);
  if (o->attr == DG_ATTR_RED || o->attr == DG_ATTR_BROWN) {
    float row = floorf(v / 0.085f), bu = u / 0.26f + 0.5f * ((int)row & 1);
    float h = whash_unit(whash2((uint32_t)(int)floorf(bu + off), (uint32_t)(int)row));
    v3 brick = vs(base, 0.82f + 0.32f * h);
    bool mortar = fractf(v / 0.085f) < 0.18f || fractf(bu) < 0.07f;
    v3 avg = vs(base, 0.96f);
    v3 c = mortar ? V(0.62f, 0.6f, 0.56f) : brick;
    base = vmix(avg, c, fine);
  } else {
    base = vs(base, 0.88f + 0.2f * fbm2(u * 0.5f + off, v * 0.5f, 2) + 0.06f * fine * (noise2(u * 5, v * 5) - 0.5f));
  }
  base = vs(base, 1 - 0.12f * smooth(2, 0, v)); // grime at the bottom
  if (r->L.rain > 0) base = vs(base, 1 - 0.25f * r->L.rain);
  return base;
}

static bool window_glass(const rctx *r, const dg_world_object *o, int floor_i, int col, float z, surf *s) {
  const look *L = &r->L;
  float h = whash_unit(whash3(o->hash, (uint32_t)floor_i + 100, (uint32_t)(col + 1000)));
  s->a = V(0.10f, 0.12f, 0.15f);
  s->ndl *= 0.3f;
  v3 refl = vs(vmix(L->sky_hor, L->sky_top, h), 0.35f * (1 - 0.6f * L->night));
  s->e = refl;
  if (h < 0.5f) s->e = vadd(s->e, vs(V(1.0f, 0.78f, 0.45f), L->night * (0.7f + 0.5f * h)));
  (void)z;
  return true;
}

static bool facade_shader(rctx *r, const dg_world_object *o, float u, float v, float z, surf *s) {
  const look *L = &r->L;
  float ww = 2.5f + 0.45f * o->variant, fh = 3.1f + 0.25f * o->variant, off = (float)(o->hash % 97) * 0.31f;
  if (v > o->h - 0.5f) { // cornice, with snow on top
    s->a = vs(attr_color(o->attr, false), o->attr == DG_ATTR_WHITE ? 0.85f : 0.65f);
    if (v > o->h - 0.12f && L->cover > 0) s->a = vmix(s->a, L->snow, L->cover);
    return true;
  }
  if (v < 3.6f) { // ground floor: shop windows and doors
    float cu = fractf((u + off) / (ww * 2)) * ww * 2;
    if (v < 0.3f) {
      s->a = V(0.3f, 0.3f, 0.31f);
    } else if (v > 0.6f && v < 3.0f && cu > 0.6f && cu < ww * 2 - 0.6f) {
      window_glass(r, o, -1, (int)floorf((u + off) / (ww * 2)), z, s);
      if (L->night > 0) s->e = vadd(s->e, vs(V(1.0f, 0.85f, 0.6f), 0.2f * L->night));
    } else {
      s->a = wall_texture(r, o, u, v, z);
    }
    if (v > 3.3f && v < 3.6f) s->a = vs(attr_color(o->attr, false), 0.6f);
    return true;
  }
  float fv = v - 3.6f;
  int fl = (int)floorf(fv / fh);
  float lv = fv - fl * fh, cu = fractf((u + off) / ww) * ww;
  int col = (int)floorf((u + off) / ww);
  bool win_col = cu > 0.65f && cu < ww - 0.65f;
  if (win_col && lv > 0.9f && lv < 2.4f) {
    if (cu < 0.73f || cu > ww - 0.73f || lv < 0.98f || lv > 2.32f) {
      s->a = V(0.82f, 0.8f, 0.76f); // frame
      return true;
    }
    return window_glass(r, o, fl, col, z, s);
  }
  s->a = wall_texture(r, o, u, v, z);
  if (win_col && lv > 0.78f && lv <= 0.9f) { // sill
    s->a = V(0.75f, 0.74f, 0.7f);
    if (L->cover > 0) s->a = vmix(s->a, L->snow, L->cover);
  }
  return true;
}

static bool side_facade(rctx *r, const dg_world_object *o, float u, float v, float z, surf *s) {
  return facade_shader(r, o, u, v, z, s);
}
static bool front_facade(rctx *r, const dg_world_object *o, float u, float v, float z, surf *s) {
  return facade_shader(r, o, u + 3.3f, v, z, s);
}

static v3 car_paint(const rctx *r, const dg_world_object *o, float v) {
  v3 c = attr_color(o->attr, true);
  float gloss = smooth(0.5f, 1.0f, v / o->h) * 0.18f;
  return vadd(vs(c, 0.85f + 0.2f * v / o->h), vs(r->L.sky_hor, gloss * (1 - r->L.night)));
}

static bool car_glass(const rctx *r, surf *s, float v) {
  s->a = V(0.06f, 0.07f, 0.09f);
  s->e = vs(r->L.sky_hor, (0.18f + 0.12f * v) * (1 - 0.7f * r->L.night));
  s->ndl *= 0.3f;
  return true;
}

static bool car_end_shader(rctx *r, const dg_world_object *o, float u, float v, float z, surf *s) {
  const look *L = &r->L;
  float hw = o->w * 0.5f, bt = o->h * 0.62f, au = fabsf(u);
  (void)z;
  if (v < 0.3f) {
    if (au > hw - 0.42f && au < hw - 0.06f) {
      s->a = V(0.04f, 0.04f, 0.04f);
      return true;
    }
    return false;
  }
  if (v < bt) {
    if (v > bt - 0.12f && au > hw - 0.12f + (v - bt + 0.12f)) return false; // rounded shoulder
    s->a = car_paint(r, o, v);
    if (v < 0.45f) s->a = V(0.07f, 0.07f, 0.08f); // bumper
    if (v > bt - 0.32f && v < bt - 0.1f && au > hw - 0.38f && au < hw - 0.05f) {
      if (o->heading > 0) { // tail lights
        s->a = V(0.55f, 0.04f, 0.04f);
        s->e = vs(V(1.0f, 0.08f, 0.05f), 0.15f + 1.4f * L->night + 0.6f * L->overcast);
      } else { // headlights
        s->a = V(0.8f, 0.8f, 0.75f);
        s->e = vs(V(1.0f, 0.95f, 0.8f), 0.1f + 1.8f * L->night + 0.5f * L->overcast);
      }
    }
    if (au < 0.26f && v > 0.5f && v < 0.64f) s->a = V(0.85f, 0.85f, 0.8f); // number plate
    return true;
  }
  float k = (v - bt) / (o->h - bt), hwc = hw - 0.1f - k * 0.28f;
  if (au > hwc) return false;
  if (v > o->h - 0.07f) {
    s->a = L->cover > 0 ? vmix(car_paint(r, o, v), L->snow, L->cover) : car_paint(r, o, v);
    return true;
  }
  if (au < hwc - 0.09f && v > bt + 0.05f) return car_glass(r, s, k);
  s->a = car_paint(r, o, v);
  return true;
}

static bool car_side_shader(rctx *r, const dg_world_object *o, float u, float v, float z, surf *s) {
  float len = o->z1 - o->z, su = u - o->z, bt = o->h * 0.62f;
  (void)z;
  for (int w = 0; w < 2; w++) {
    float wc = w ? len - 0.8f : 0.8f, du = su - wc, dv = v - 0.33f, d2 = du * du + dv * dv;
    if (d2 < 0.33f * 0.33f) {
      s->a = d2 < 0.16f * 0.16f ? V(0.55f, 0.55f, 0.57f) : V(0.04f, 0.04f, 0.04f);
      return true;
    }
    if (d2 < 0.4f * 0.4f && v > 0.3f) {
      s->a = V(0.05f, 0.05f, 0.05f);
      return true;
    }
  }
  if (v < 0.3f) return false;
  if (v < bt) {
    s->a = car_paint(r, o, v);
    if (fabsf(su - len * 0.5f) < 0.03f) s->a = vs(s->a, 0.4f);
    return true;
  }
  float k = (v - bt) / (o->h - bt), c0 = 1.0f + k * 0.7f, c1 = len - 1.1f - k * 0.9f;
  if (su < c0 || su > c1) return false;
  if (v > o->h - 0.07f) {
    s->a = r->L.cover > 0 ? vmix(car_paint(r, o, v), r->L.snow, r->L.cover) : car_paint(r, o, v);
    return true;
  }
  if (su > c0 + 0.1f && su < c1 - 0.1f && fabsf(su - (c0 + c1) * 0.5f) > 0.07f && v > bt + 0.05f)
    return car_glass(r, s, k);
  s->a = car_paint(r, o, v);
  return true;
}

static const v3 shirts[8] = {{0.7f, 0.1f, 0.1f}, {0.1f, 0.25f, 0.6f}, {0.85f, 0.85f, 0.8f}, {0.15f, 0.5f, 0.2f},
                             {0.9f, 0.7f, 0.1f}, {0.4f, 0.2f, 0.5f},  {0.2f, 0.2f, 0.22f},  {0.8f, 0.4f, 0.1f}};

static bool person_shader(rctx *r, const dg_world_object *o, float u, float v, float z, surf *s) {
  float h = o->h, au = fabsf(u);
  (void)z;
  uint32_t hs = o->hash;
  bool umbrella = r->L.rain > 0.5f && (hs & 1);
  if (umbrella && v > h - 0.05f) {
    float k = (v - h + 0.05f) / 0.45f;
    if (k > 1 || au > 0.55f * sqrtf(fmaxf(0, 1 - k * k))) return false;
    s->a = shirts[(hs >> 9) & 7];
    return true;
  }
  if (umbrella && au < 0.02f && v > h * 0.7f) {
    s->a = V(0.1f, 0.1f, 0.1f);
    return true;
  }
  float hy = h - 0.12f, dh = (v - hy) / 0.12f, du = u / 0.1f;
  if (du * du + dh * dh < 1) {
    s->a = v > h - 0.09f ? V(0.15f, 0.1f, 0.07f) : vs(V(0.85f, 0.64f, 0.5f), 0.7f + 0.3f * whash_unit(hs));
    return true;
  }
  v3 shirt = shirts[(hs >> 4) & 7];
  if (r->L.season > 1.5f) shirt = vs(shirt, 0.6f);
  if (v > h * 0.47f && v < h - 0.22f) {
    float hw = v > h - 0.3f ? 0.17f : 0.21f;
    if (au > hw) return false;
    s->a = au > 0.16f && v < h * 0.56f ? V(0.8f, 0.6f, 0.48f) : shirt;
    return true;
  }
  if (v < h * 0.47f && au > 0.02f && au < 0.13f) {
    s->a = v < 0.07f ? V(0.05f, 0.05f, 0.05f) : (hs & 64) ? V(0.12f, 0.14f, 0.3f) : V(0.2f, 0.18f, 0.16f);
    return true;
  }
  return false;
}

static bool pole_shader(rctx *r, const dg_world_object *o, float u, float v, float z, surf *s) {
  float h = o->h, a = u * o->heading;
  (void)z;
  v3 metal = V(0.33f, 0.35f, 0.37f);
  if (fabsf(u) < 0.08f - v * 0.004f && v < h) {
    s->a = metal;
    return true;
  }
  if (v > h - 0.12f && v <= h && a > 0 && a < 1.5f) {
    s->a = metal;
    return true;
  }
  if (a > 1.0f && a < 1.65f && v > h - 0.34f && v <= h - 0.05f) {
    if (v < h - 0.24f) {
      s->a = V(0.85f, 0.85f, 0.8f);
      s->e = vs(r->L.lamp, 2.2f);
    } else {
      s->a = vs(metal, 0.8f);
    }
    return true;
  }
  return false;
}

static bool sign_shader(rctx *r, const dg_world_object *o, float u, float v, float z, surf *s) {
  (void)z;
  float au = fabsf(u), cv = 2.25f, dv = v - cv;
  v3 red = V(0.75f, 0.08f, 0.07f), white = V(0.92f, 0.92f, 0.9f);
  bool in = false, rim = false;
  switch (o->variant) {
  case 0: {
    float d = sqrtf(u * u + dv * dv);
    in = d < 0.32f;
    rim = d > 0.23f;
    if (in && !rim && fabsf(dv) < 0.05f && au < 0.18f) { // no-entry bar
      s->a = white;
      return true;
    }
    if (in && !rim) {
      s->a = red;
      return true;
    }
    break;
  }
  case 1: {
    float k = (dv + 0.28f) / 0.56f; // 0 at the bottom edge, 1 at the tip
    in = k >= 0 && k <= 1 && au < (1 - k) * 0.33f;
    rim = in && (k < 0.14f || au > (1 - k) * 0.33f - 0.08f);
    break;
  }
  default: {
    in = au < 0.3f && fabsf(dv) < 0.3f;
    if (in) {
      bool arrow = (au < 0.05f && dv < 0.06f && dv > -0.2f) || (dv >= 0.04f && dv < 0.22f && au < 0.22f - dv);
      s->a = arrow ? white : V(0.1f, 0.3f, 0.75f);
      s->a = vs(s->a, 1 + 0.3f * r->L.night);
      return true;
    }
  }
  }
  if (in) {
    s->a = rim ? red : white;
    return true;
  }
  if (au < 0.045f && v < cv) {
    s->a = V(0.45f, 0.46f, 0.48f);
    return true;
  }
  return false;
}

static v3 leaf_color(const rctx *r, uint32_t hash) {
  float season = r->L.season, h = whash_unit(hash);
  v3 summer = vmix(V(0.16f, 0.36f, 0.10f), V(0.28f, 0.45f, 0.14f), h);
  v3 autumn = h < 0.4f ? V(0.85f, 0.45f, 0.08f) : h < 0.7f ? V(0.75f, 0.22f, 0.07f) : V(0.85f, 0.7f, 0.15f);
  return vmix(summer, autumn, smooth(0.3f, 1.0f, season));
}

static bool tree_shader(rctx *r, const dg_world_object *o, float u, float v, float z, surf *s) {
  const look *L = &r->L;
  float h = o->h, rx = o->w * 0.5f, off = (float)(o->hash & 1023) * 0.173f;
  float fine = 1 - smooth(10, 40, z);
  if (o->variant) { // conifer
    float th = h * 0.12f;
    if (v < th + 0.3f && fabsf(u) < 0.14f) {
      s->a = V(0.28f, 0.2f, 0.13f);
      return true;
    }
    if (v < th || v > h) return false;
    float k = (v - th) / (h - th), tier = fractf(k * 4.5f);
    float hw = rx * (1 - k) * (0.72f + 0.35f * tier) * (0.9f + 0.2f * noise2(u * 3 + off, v * 3));
    if (fabsf(u) > hw) return false;
    float n = fine > 0 ? noise2(u * 6 + off, v * 6) : 0.5f;
    s->a = vs(V(0.08f, 0.22f, 0.11f), 0.75f + 0.5f * n);
    if (L->cover > 0 && tier > 0.7f) s->a = vmix(s->a, L->snow, L->cover * 0.85f);
    s->ndl = 0.4f + 0.3f * (u / rx) * (L->lx > 0 ? 1 : -1);
    return true;
  }
  float th = h * 0.38f, cy = th + (h - th) * 0.5f, ry = (h - th) * 0.5f;
  float du = u / rx, dv = (v - cy) / ry, d = du * du + dv * dv;
  // The noisy edge lies between d = 0.55 and 1.3; only there is the noise needed.
  bool crown = v <= h + 0.5f && (d < 0.55f || (d < 1.3f && d < 0.55f + 0.75f * fbm2(u * 0.9f + off, v * 0.9f, 2)));
  if (crown && L->leaf_density < 1) { // autumn into winter: leaves fall, branches remain
    float keep = noise2(u * 3.1f + off, v * 3.1f);
    if (keep > L->leaf_density * 0.85f + 0.15f) {
      float br = fabsf(noise2(u * 1.7f + off, v * 0.9f) - 0.5f);
      if (br < 0.05f + 0.05f * (1 - d) || (fabsf(u) < 0.1f + 0.05f * (1 - dv) && dv < 0.4f)) {
        s->a = V(0.22f, 0.17f, 0.13f);
        if (L->cover > 0 && br < 0.03f) s->a = vmix(s->a, L->snow, 0.6f * L->cover);
        return true;
      }
      crown = false;
    }
  }
  if (crown) {
    float clump = fine > 0 ? fbm2(u * 2.4f + off, v * 2.4f, 2) : 0.5f;
    s->a = vs(leaf_color(r, o->hash), 0.55f + 0.8f * clump);
    s->ndl = fmaxf(0.15f, 0.45f + 0.35f * dv + 0.35f * du * (L->lx > 0 ? 1 : -1));
    if (L->cover > 0 && clump > 0.52f && dv > -0.3f) s->a = vmix(s->a, L->snow, L->cover * 0.8f);
    return true;
  }
  if (v < cy && fabsf(u) < 0.12f + 0.1f * (1 - v / cy)) {
    float n = noise2(u * 9, v * 2);
    s->a = vs(V(0.3f, 0.22f, 0.15f), 0.75f + 0.4f * n);
    return true;
  }
  return false;
}

static bool fence_shader(rctx *r, const dg_world_object *o, float u, float v, float z, surf *s) {
  (void)z;
  float h = o->h;
  v3 c = o->variant ? V(0.3f, 0.31f, 0.33f) : V(0.45f, 0.32f, 0.2f);
  bool post = fractf(u / 2.2f) < 0.06f;
  bool rail = (v > h * 0.88f) || (v > h * 0.42f && v < h * 0.54f);
  bool bar = o->variant && fractf(u / 0.25f) < 0.2f && v > h * 0.05f;
  if (!(post || rail || bar)) return false;
  s->a = c;
  if (r->L.cover > 0 && v > h * 0.9f) s->a = vmix(c, r->L.snow, r->L.cover);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Objects

static void draw_object(rctx *r, int oi) {
  dg_world_object *o = &r->sc->objects[oi];
  const look *L = &r->L;
  switch (o->cls) {
  case DG_WORLD_BUILDING: {
    float sgn = o->x < 0 ? -1.f : 1.f;
    // The street facade faces the camera's side; the front wall closes the block's near end.
    draw_side(r, oi, o->x, o->z, o->z1, 0, o->h, -sgn * L->lx, side_facade);
    draw_front(r, oi, o->z, sgn < 0 ? o->x - o->w : o->x, sgn < 0 ? o->x : o->x + o->w, 0, o->h, -L->lz, front_facade);
    break;
  }
  case DG_WORLD_CAR: {
    float hw = o->w * 0.5f;
    if (r->camx < o->x - hw) draw_side(r, oi, o->x - hw, o->z, o->z1, 0, o->h, -L->lx, car_side_shader);
    if (r->camx > o->x + hw) draw_side(r, oi, o->x + hw, o->z, o->z1, 0, o->h, L->lx, car_side_shader);
    draw_front(r, oi, o->z, o->x - hw, o->x + hw, 0, o->h, -L->lz, car_end_shader);
    if (L->night > 0.05f && o->z > 0.8f) {
      float py = r->hy - r->f * (o->h * 0.62f - 0.2f - r->hc) / o->z;
      for (int k = -1; k <= 1; k += 2) {
        float px = r->cx + r->f * (o->x + k * (hw - 0.2f) - r->camx) / o->z;
        v3 c = o->heading > 0 ? V(1.0f, 0.1f, 0.05f) : V(1.0f, 0.9f, 0.7f);
        add_glow(r, px, py, r->f * 0.35f / o->z, vs(c, L->night * (o->heading > 0 ? 0.5f : 0.9f)));
      }
    }
    break;
  }
  case DG_WORLD_PERSON:
    draw_front(r, oi, o->z, o->x - 0.6f, o->x + 0.6f, 0, o->h + 0.45f, -L->lz, person_shader);
    break;
  case DG_WORLD_POLE: {
    float a = o->heading > 0 ? o->x - 0.2f : o->x - 1.7f, b = o->heading > 0 ? o->x + 1.7f : o->x + 0.2f;
    draw_front(r, oi, o->z, a, b, 0, o->h, -L->lz, pole_shader);
    if (L->night > 0.05f) {
      float lx = o->x + o->heading * 1.32f, ly = o->h - 0.3f;
      add_glow(r, r->cx + r->f * (lx - r->camx) / o->z, r->hy - r->f * (ly - r->hc) / o->z, r->f * 0.9f / o->z,
               vs(L->lamp, 0.8f));
    }
    break;
  }
  case DG_WORLD_SIGN: draw_front(r, oi, o->z, o->x - 0.35f, o->x + 0.35f, 0, 2.6f, -L->lz, sign_shader); break;
  case DG_WORLD_TREE: draw_front(r, oi, o->z, o->x - o->w, o->x + o->w, 0, o->h + 0.6f, 0.5f, tree_shader); break;
  case DG_WORLD_FENCE: draw_side(r, oi, o->x, o->z, o->z1, 0, o->h, -(o->x < 0 ? -1 : 1) * L->lx, fence_shader); break;
  }
}

// Ground shadows of objects (soft ellipses offset away from the sun) and contact darkening.
static void object_shadows(rctx *r) {
  const look *L = &r->L;
  const dg_world_scene *s = r->sc;
  float ly = fmaxf(L->ly, 0.2f);
  for (int i = 0; i < s->n_objects; i++) {
    const dg_world_object *o = &s->objects[i];
    if (o->cls == DG_WORLD_BUILDING || o->cls == DG_WORLD_FENCE) continue;
    float len = o->cls == DG_WORLD_CAR ? o->z1 - o->z : o->w;
    float hh = o->cls == DG_WORLD_TREE ? o->h * 0.7f : o->h * 0.5f;
    float sx = -L->lx / ly * hh, sz = -L->lz / ly * hh;
    float k = sqrtf(sx * sx + sz * sz), lim = 2.5f * o->h;
    if (k > lim) {
      sx *= lim / k;
      sz *= lim / k;
    }
    float ccx = o->x + sx * 0.6f, ccz = (o->z + (o->cls == DG_WORLD_CAR ? len * 0.5f : 0)) + sz * 0.6f;
    float ex = o->w * 0.6f + fabsf(sx) * 0.6f, ez = len * 0.6f + fabsf(sz) * 0.6f;
    if (o->cls == DG_WORLD_TREE) ex = ez = o->w * 0.5f + 0.4f * k;
    float znear = fmaxf(ccz - ez, 1.0f), zfar = ccz + ez;
    if (zfar <= znear) continue;
    int y0 = (int)floorf(r->hy + r->f * r->hc / zfar), y1 = (int)ceilf(r->hy + r->f * r->hc / znear);
    float xl = fminf((ccx - ex - r->camx) / znear, (ccx - ex - r->camx) / zfar);
    float xr = fmaxf((ccx + ex - r->camx) / znear, (ccx + ex - r->camx) / zfar);
    int x0 = (int)floorf(r->cx + r->f * xl), x1 = (int)ceilf(r->cx + r->f * xr);
    if (y0 < 0) y0 = 0;
    if (y1 > r->H) y1 = r->H;
    if (x0 < 0) x0 = 0;
    if (x1 > r->W) x1 = r->W;
    for (int py = y0; py < y1; py++) {
      float dy = py + 0.5f - r->hy;
      if (dy <= 0) continue;
      float z = r->f * r->hc / dy;
      for (int px = x0; px < x1; px++) {
        float x = r->camx + (px + 0.5f - r->cx) * z / r->f;
        float a = (x - ccx) / ex, b = (z - ccz) / ez, d = a * a + b * b;
        if (d < 1) r->sun_shadow[py * r->W + px] *= 0.15f + 0.85f * smooth(0.5f, 1.0f, d);
        if (o->cls == DG_WORLD_CAR || o->cls == DG_WORLD_PERSON) {
          float a2 = (x - o->x) / (o->w * 0.65f), b2 = (z - (o->z + len * 0.5f)) / (len * 0.6f);
          float d2 = a2 * a2 + b2 * b2;
          if (d2 < 1) r->ao[py * r->W + px] *= 0.45f + 0.55f * d2;
        }
      }
    }
  }
}

static void ground_pass(rctx *r) {
  const look *L = &r->L;
  int row0 = (int)floorf(r->hy);
  if (row0 < 0) row0 = 0;
  for (int py = row0; py < r->H; py++) {
    float dy = py + 0.5f - r->hy;
    if (dy <= 0) continue;
    float z = fminf(r->f * r->hc / dy, 3000), fine = 1 - smooth(0.04f, 0.2f, z / r->f), fog = fog_factor(r, z);
    for (int px = 0; px < r->W; px++) {
      int p = py * r->W + px;
      if (r->depth[p] < 1e29f) continue; // objects are always in front of the ground behind them
      float x = r->camx + (px + 0.5f - r->cx) * z / r->f;
      if (r->flat) {
        put(r, p, z, ground(r, x, z, fine, true, NULL), -1, V(0, 0, 0));
        continue;
      }
      v3 a;
      int cls = ground(r, x, z, fine, true, &a);
      surf s = {a, V(0, 0, 0), L->ly};
      if (cls == DG_WORLD_WATER) s.ndl *= 0.3f;
      float shadow = r->sun_shadow[p] * building_shadow(r, x, 0, z);
      for (int k = 0; k < r->n_lamps && L->night > 0.02f; k++) {
        float ddx = x - r->lamps[k][0], ddz = z - r->lamps[k][2];
        s.e = vadd(s.e, vs(vmul(a, L->lamp), 2.2f / (1 + (ddx * ddx + ddz * ddz) * 0.12f)));
      }
      put(r, p, z, cls, -1, lit_fog(r, &s, shadow, r->ao[p], fog));
    }
  }
}

static void background_pass(rctx *r) {
  int rows = (int)ceilf(r->hy);
  if (rows > r->H) rows = r->H;
  v3 grad[8192];
  for (int py = 0; py < rows; py++) {
    float t = clampf((r->hy - py - 0.5f) / fmaxf(r->hy, 1), 0, 1);
    grad[py] = vmix(r->L.sky_hor, r->L.sky_top, powf(t, 0.6f));
  }
  for (int px = 0; px < r->W; px++) {
    float rp = r->sc->mountains > 0 ? ridge(r, px + 0.5f) : 0;
    for (int py = 0; py < rows; py++)
      if (py + 0.5f <= r->hy && r->depth[py * r->W + px] >= 1e29f) sky_pixel(r, px, py, rp, grad[py]);
  }
}

// Rain streaks, falling snow and light halos: on top of everything, the labels stay.
static void weather_pass(rctx *r) {
  const look *L = &r->L;
  float scale = r->H / 128.0f;
  for (int k = 0; k < r->n_glow; k++) {
    glow g = r->glows[k];
    float rad = fmaxf(g.radius, 1.0f) * (1 + 1.5f * fmaxf(clampf(r->sc->mood.fog, 0, 1), L->rain));
    int x0 = (int)(g.x - 3 * rad), x1 = (int)(g.x + 3 * rad) + 1, y0 = (int)(g.y - 3 * rad),
        y1 = (int)(g.y + 3 * rad) + 1;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > r->W) x1 = r->W;
    if (y1 > r->H) y1 = r->H;
    for (int py = y0; py < y1; py++)
      for (int px = x0; px < x1; px++) {
        float dx = (px + 0.5f - g.x) / rad, dy = (py + 0.5f - g.y) / rad, w = expf(-(dx * dx + dy * dy));
        float *o = r->rgb + 3 * (size_t)(py * r->W + px);
        o[0] += g.c.r * w;
        o[1] += g.c.g * w;
        o[2] += g.c.b * w;
      }
  }
  if (L->rain <= 0.01f && L->snowfall <= 0.01f) return;
  // Streaks and flakes are drawn as sprites into an accumulation buffer, then blended once.
  float *acc = r->ao;
  memset(acc, 0, sizeof(float) * (size_t)r->W * r->H);
  uint32_t seed = (uint32_t)r->sc->seed;
  if (L->rain > 0.01f) {
    for (int layer = 0; layer < 2; layer++) {
      float sc = scale * (layer ? 1.0f : 1.8f), len = 10 * sc, amount = 0.12f + 0.06f * layer;
      int cols = (int)ceilf((r->W + r->H * 0.18f) / sc) + 1;
      for (int col = 0; col < cols; col++) {
        uint32_t h = whash3((uint32_t)col, seed, (uint32_t)layer);
        if (whash_unit(h) > 0.35f * L->rain) continue;
        float ph = whash_unit(whash(h)) * 97;
        for (int py = 0; py < r->H; py++) {
          if (fractf(py / (len * 2.2f) + ph) >= 0.45f) continue;
          int x0 = (int)ceilf(col * sc - py * 0.18f), x1 = (int)ceilf((col + 0.6f) * sc - py * 0.18f);
          if (x0 < 0) x0 = 0;
          if (x1 > r->W) x1 = r->W;
          for (int px = x0; px < x1; px++)
            acc[py * r->W + px] += amount;
        }
      }
    }
  }
  if (L->snowfall > 0.01f) {
    for (int layer = 0; layer < 2; layer++) {
      float cell = (layer ? 5.0f : 9.0f) * scale, rad = (layer ? 0.7f : 1.2f) * scale;
      int nx = (int)ceilf(r->W / cell), ny = (int)ceilf(r->H / cell);
      for (int cyi = 0; cyi < ny; cyi++)
        for (int cxi = 0; cxi < nx; cxi++) {
          uint32_t h = whash3((uint32_t)cxi + 77u * (uint32_t)layer, (uint32_t)cyi, seed);
          if (whash_unit(h) > 0.55f * L->snowfall) continue;
          float fx = (cxi + 0.2f + 0.6f * whash_unit(whash(h))) * cell,
                fy = (cyi + 0.2f + 0.6f * whash_unit(whash(h + 1))) * cell;
          int x0 = (int)floorf(fx - 1.3f * rad), x1 = (int)ceilf(fx + 1.3f * rad), y0 = (int)floorf(fy - 1.3f * rad),
              y1 = (int)ceilf(fy + 1.3f * rad);
          if (x0 < 0) x0 = 0;
          if (y0 < 0) y0 = 0;
          if (x1 > r->W) x1 = r->W;
          if (y1 > r->H) y1 = r->H;
          for (int py = y0; py < y1; py++)
            for (int px = x0; px < x1; px++) {
              float dx = px + 0.5f - fx, dy = py + 0.5f - fy, d2 = (dx * dx + dy * dy) / (rad * rad);
              if (d2 < 1.5f) acc[py * r->W + px] += 0.8f * (1 - d2 / 1.5f);
            }
        }
    }
  }
  v3 fl = L->snowfall > 0.01f ? V(0.95f, 0.96f, 1.0f) : vs(vadd(L->sky_hor, V(0.3f, 0.3f, 0.3f)), 0.8f);
  fl = vs(fl, 0.35f + 0.65f * (1 - 0.75f * L->night));
  for (int p = 0; p < r->W * r->H; p++) {
    if (acc[p] <= 0) continue;
    float k = fminf(acc[p], 0.9f), *o = r->rgb + 3 * (size_t)p;
    o[0] += (fl.r - o[0]) * k;
    o[1] += (fl.g - o[1]) * k;
    o[2] += (fl.b - o[2]) * k;
  }
}

static void to_bytes(const float *f, uint8_t *out, size_t n, bool exact) {
  for (size_t i = 0; i < n; i++) {
    float v = f[i];
    if (v > 0.8f && !exact) { // a gentle shoulder (rational, no exp: this runs on every value)
      float t = (v - 0.8f) * 5;
      v = 0.8f + 0.2f * t / (1 + t);
    }
    int q = (int)(v * 255.0f + 0.5f);
    out[i] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
  }
}

static void setup(rctx *r, dg_world_scene *s) {
  pthread_once(&noise_once, init_noise);
  r->sc = s;
  r->W = s->width;
  r->H = s->height;
  r->f = s->focal * s->height;
  r->cx = s->vanish_x * s->width;
  r->hy = s->horizon * s->height;
  r->hc = s->cam_height;
  r->camx = s->cam_x;
  r->L = make_look(s, r->f, r->cx, r->hy);
}

// `visibility_only` (with `flat`) draws the objects alone: enough to count each one's visible pixels.
static dg_status render_once(dg_world_scene *s, float *rgbf, float *depth, float *sh, float *ao, uint8_t *label,
                             uint16_t *inst, int *drawn, bool flat, bool visibility_only) {
  rctx r = {0};
  setup(&r, s);
  r.rgb = rgbf;
  r.depth = depth;
  r.sun_shadow = sh;
  r.ao = ao;
  r.label = label;
  r.inst = inst;
  r.drawn = drawn;
  r.flat = flat;
  size_t n = (size_t)r.W * r.H;
  for (size_t i = 0; i < n; i++) {
    depth[i] = 1e30f;
    sh[i] = ao[i] = 1;
    label[i] = DG_WORLD_UNLABELLED;
    inst[i] = 0;
  }
  memset(drawn, 0, sizeof(int) * DG_WORLD_MAX_OBJECTS);
  for (int i = 0; i < s->n_objects; i++) {
    const dg_world_object *o = &s->objects[i];
    if (o->cls == DG_WORLD_POLE && r.n_lamps < 16) {
      r.lamps[r.n_lamps][0] = o->x + o->heading * 1.32f;
      r.lamps[r.n_lamps][1] = o->h;
      r.lamps[r.n_lamps][2] = o->z;
      r.n_lamps++;
    }
  }
  if (!flat && r.L.ly >= 0.03f && fabsf(r.L.lx) >= 0.02f)
    for (int i = 0; i < s->n_objects; i++)
      if (s->objects[i].cls == DG_WORLD_BUILDING && (s->objects[i].x > 0) == (r.L.lx > 0))
        r.casters[r.n_casters++] = &s->objects[i];
  if (!flat) object_shadows(&r);
  // Objects first: the ground and sky are then shaded only where no object covers them.
  for (int i = 0; i < s->n_objects; i++)
    draw_object(&r, i);
  if (!visibility_only) {
    ground_pass(&r);
    background_pass(&r);
  }
  if (!flat) weather_pass(&r);
  return DG_OK;
}

typedef struct scratch {
  size_t size;
  void *mem;
} scratch;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static void scratch_free(void *p) {
  if (p) free(((scratch *)p)->mem);
  free(p);
}
static void scratch_init(void) { pthread_key_create(&scratch_key, scratch_free); }

// The calling thread's scratch block of at least `size` bytes (freed when the thread exits).
static void *scratch_get(size_t size) {
  pthread_once(&scratch_once, scratch_init);
  scratch *sc = pthread_getspecific(scratch_key);
  if (!sc) {
    sc = calloc(1, sizeof *sc);
    if (!sc || pthread_setspecific(scratch_key, sc) != 0) {
      free(sc);
      return NULL;
    }
  }
  if (sc->size < size) {
    free(sc->mem);
    sc->mem = malloc(size);
    sc->size = sc->mem ? size : 0;
  }
  return sc->mem;
}

dg_status dg_world_render_ex(dg_world_scene *s, uint8_t *rgb, uint8_t *label, uint16_t *instance, bool flat,
                             bool prune) {
  if (!s || !rgb || !label) return dg_fail(DG_ERR_ARG, "world render: null scene or output");
  if (s->width < 16 || s->height < 16 || s->width > 8192 || s->height > 8192)
    return dg_fail(DG_ERR_ARG, "world render: image size %dx%d out of range", s->width, s->height);
  size_t n = (size_t)s->width * s->height;
  // Per-thread scratch memory, kept between renders: fresh large allocations would page-fault every time.
  float *scratch = scratch_get(n * 6 * sizeof(float) + n * sizeof(uint16_t));
  if (!scratch) return dg_fail(DG_ERR_OOM, "world render: out of memory for %dx%d", s->width, s->height);
  float *rgbf = scratch, *depth = rgbf + 3 * n, *sh = depth + n, *ao = sh + n;
  uint16_t *inst = instance ? instance : (uint16_t *)(ao + n);
  int drawn[DG_WORLD_MAX_OBJECTS];
  float area = (float)n / (256.0f * 128.0f);
  int min_px = (int)fmaxf(5, 12 * area);
  // Visibility from a cheap flat pass (the geometry does not depend on shading), then the final pass.
  // Dropping an object only uncovers the others, so one pass finds every object to drop.
  if (prune) {
    render_once(s, rgbf, depth, sh, ao, label, inst, drawn, true, true);
    int vis[DG_WORLD_MAX_OBJECTS + 2] = {0}; // visible pixels by instance
    for (size_t i = 0; i < n; i++)
      if (inst[i] && inst[i] <= DG_WORLD_MAX_OBJECTS) vis[inst[i]]++;
    int kept = 0;
    for (int i = 0; i < s->n_objects; i++) {
      dg_world_object *o = &s->objects[i];
      int v = vis[o->instance];
      // A building's front wall is usually behind its neighbour, so only its visible area counts.
      if (v < min_px || (o->cls != DG_WORLD_BUILDING && v < 0.25f * drawn[i])) continue;
      s->objects[kept++] = *o;
    }
    s->n_objects = kept;
  }
  render_once(s, rgbf, depth, sh, ao, label, inst, drawn, flat, false);
  // Visible pixels and bounding boxes from the final instance map.
  for (int i = 0; i < s->n_objects; i++) {
    s->objects[i].pixels = 0;
    s->objects[i].bbox[0] = s->objects[i].bbox[1] = 1 << 30;
    s->objects[i].bbox[2] = s->objects[i].bbox[3] = -1;
  }
  int slot[DG_WORLD_MAX_OBJECTS + 2];
  for (int i = 0; i < DG_WORLD_MAX_OBJECTS + 2; i++)
    slot[i] = -1;
  for (int i = 0; i < s->n_objects; i++)
    slot[s->objects[i].instance] = i;
  for (int y = 0; y < s->height; y++)
    for (int x = 0; x < s->width; x++) {
      int id = inst[y * s->width + x];
      if (!id || slot[id] < 0) continue;
      dg_world_object *o = &s->objects[slot[id]];
      o->pixels++;
      if (x < o->bbox[0]) o->bbox[0] = x;
      if (y < o->bbox[1]) o->bbox[1] = y;
      if (x + 1 > o->bbox[2]) o->bbox[2] = x + 1;
      if (y + 1 > o->bbox[3]) o->bbox[3] = y + 1;
    }
  for (int i = 0; i < s->n_objects; i++)
    if (!s->objects[i].pixels) memset(s->objects[i].bbox, 0, sizeof s->objects[i].bbox);
  to_bytes(rgbf, rgb, n * 3, flat);
  return DG_OK;
}

dg_status dg_world_render(dg_world_scene *s, uint8_t *rgb, uint8_t *label, uint16_t *instance) {
  return dg_world_render_ex(s, rgb, label, instance, false, true);
}

dg_status dg_world_random_labels(uint64_t seed, int width, int height, uint8_t *label) {
  if (!label) return dg_fail(DG_ERR_ARG, "world random_labels: null output");
  dg_world_scene *s = malloc(sizeof *s);
  uint8_t *rgb = s && width > 0 && height > 0 ? malloc((size_t)width * height * 3) : NULL;
  dg_status st = !s ? dg_fail(DG_ERR_OOM, "world random_labels: out of memory") : DG_OK;
  if (st == DG_OK) st = dg_world_generate(seed, width, height, dg_world_style_random(seed), s);
  if (st == DG_OK && !rgb) st = dg_fail(DG_ERR_OOM, "world random_labels: out of memory for %dx%d", width, height);
  // Flat shading: the labels do not depend on it, and the colours are thrown away.
  if (st == DG_OK) st = dg_world_render_ex(s, rgb, label, NULL, true, true);
  free(rgb);
  free(s);
  return st;
}

// ---------------------------------------------------------------------------------------------
// Rendering a given label map: the same materials, with depth guessed from each pixel's row.

dg_status dg_world_render_labels(const uint8_t *label, const uint8_t *attr, int width, int height, dg_world_mood mood,
                                 uint64_t seed, uint8_t *rgb) {
  if (!label || !rgb || width < 1 || height < 1 || width > 8192 || height > 8192)
    return dg_fail(DG_ERR_ARG, "world render_labels: bad arguments (%dx%d)", width, height);
  size_t n = (size_t)width * height;
  for (size_t i = 0; i < n; i++)
    if (label[i] >= DG_WORLD_NUM_CLASSES && label[i] != DG_WORLD_UNLABELLED)
      return dg_fail(DG_ERR_ARG, "world render_labels: pixel (%d, %d) has class %u", (int)(i % width), (int)(i / width),
                     label[i]);
  dg_world_scene sc;
  memset(&sc, 0, sizeof sc);
  sc.seed = seed;
  sc.width = width;
  sc.height = height;
  sc.mood = mood;
  sc.focal = 1.1f;
  sc.cam_height = 1.5f;
  sc.vanish_x = 0.5f;
  sc.cloudiness = 0.4f;
  sc.road_half = 1e9f; // every road pixel is plain asphalt
  sc.sun_side = seed & 1 ? 1.f : -1.f;
  // The horizon: the first row, from the top, where a quarter of the columns show ground.
  int hrow = -1;
  for (int y = 0; y < height && hrow < 0; y++) {
    int g = 0;
    for (int x = 0; x < width; x++) {
      int c = label[y * width + x];
      g += c == DG_WORLD_ROAD || c == DG_WORLD_SIDEWALK || c == DG_WORLD_GRASS || c == DG_WORLD_WATER;
    }
    if (g * 4 >= width) hrow = y;
  }
  sc.horizon = hrow < 0 ? 0.45f : clampf((float)hrow / height, 0.15f, 0.85f);
  rctx r = {0};
  setup(&r, &sc);
  float *rgbf = malloc(n * 4 * sizeof(float)); // RGB, then the weather pass's accumulation plane
  float *base_z = malloc((size_t)width * sizeof(float));
  int *run_bottom = malloc((size_t)width * sizeof(int));
  int *comp = malloc(n * sizeof(int)), *queue = malloc(n * sizeof(int));
  if (!rgbf || !base_z || !run_bottom || !comp || !queue) {
    free(run_bottom);
    free(rgbf);
    free(base_z);
    free(comp);
    free(queue);
    return dg_fail(DG_ERR_OOM, "world render_labels: out of memory");
  }
  // Connected regions of object classes each get their own colour attribute and hash.
  for (size_t i = 0; i < n; i++)
    comp[i] = -1;
  int n_comp = 0;
  for (size_t i = 0; i < n; i++) {
    if (comp[i] >= 0) continue;
    int head = 0, tail = 0;
    comp[i] = n_comp;
    queue[tail++] = (int)i;
    while (head < tail) {
      int p = queue[head++], x = p % width, y = p / width;
      int nb[4] = {x > 0 ? p - 1 : -1, x + 1 < width ? p + 1 : -1, y > 0 ? p - width : -1,
                   y + 1 < height ? p + width : -1};
      for (int k = 0; k < 4; k++)
        if (nb[k] >= 0 && comp[nb[k]] < 0 && label[nb[k]] == label[p]) {
          comp[nb[k]] = n_comp;
          queue[tail++] = nb[k];
        }
    }
    n_comp++;
  }
  dg_world_object obj;
  memset(&obj, 0, sizeof obj);
  for (int x = 0; x < width; x++)
    base_z[x] = 3000;
  for (int y = height - 1; y >= 0; y--) {
    float dy = y + 0.5f - r.hy;
    float zrow = dy > 0 ? fminf(r.f * r.hc / dy, 3000) : 3000;
    for (int x = 0; x < width; x++) {
      int p = y * width + x, c = label[p];
      bool below_same = y + 1 < height && label[p + width] == c;
      if (!below_same) base_z[x] = c <= DG_WORLD_GRASS && c != DG_WORLD_UNLABELLED ? 3000 : zrow;
      float z =
          c == DG_WORLD_ROAD || c == DG_WORLD_SIDEWALK || c == DG_WORLD_GRASS || c == DG_WORLD_WATER ? zrow : base_z[x];
      float wx = (x + 0.5f - r.cx) * z / r.f;
      uint32_t h = whash2((uint32_t)comp[p], (uint32_t)seed);
      // Height above the region's base in this column, in metres.
      if (!below_same) run_bottom[x] = y;
      float v = (run_bottom[x] + 1 - (y + 0.5f)) * z / r.f;
      surf s = {V(0.5f, 0.5f, 0.5f), V(0, 0, 0), r.L.ly};
      v3 out;
      switch (c) {
      case DG_WORLD_SKY:
      case DG_WORLD_CLOUD: {
        float t = clampf(1 - (y + 0.5f) / fmaxf(r.hy, 1), 0, 1);
        out = vmix(r.L.sky_hor, r.L.sky_top, powf(t, 0.6f));
        if (c == DG_WORLD_CLOUD)
          out = vmix(out, vmix(r.L.cloud_dark, r.L.cloud_lit, 0.4f + 0.6f * fbm2(x * 0.08f, y * 0.2f, 3)), 0.85f);
        out = vmix(out, r.L.fog_col, clampf(mood.fog, 0, 1) * 0.8f);
        break;
      }
      case DG_WORLD_MOUNTAIN:
        s.a = vmix(V(0.30f, 0.31f, 0.36f), V(0.42f, 0.40f, 0.38f), fbm2(x * 0.1f, y * 0.15f, 3));
        out = vmix(lit(&r, &s, 1, 1, 3000), r.L.sky_hor, 0.4f);
        break;
      case DG_WORLD_ROAD:
      case DG_WORLD_SIDEWALK:
      case DG_WORLD_GRASS:
      case DG_WORLD_WATER: {
        float fine = 1 - smooth(0.04f, 0.2f, z / r.f);
        if (c == DG_WORLD_ROAD)
          s.a = snow_over(&r, asphalt(&r, wx, z, fine), wx, z, 0.8f);
        else if (c == DG_WORLD_SIDEWALK)
          s.a = snow_over(&r, paving(wx, z, fine), wx, z, 1);
        else if (c == DG_WORLD_GRASS)
          s.a = snow_over(&r, grass_color(&r, wx, z, fine), wx, z, 1.1f);
        else {
          s.a = vmix(V(0.05f, 0.16f, 0.26f), r.L.sky_hor, 0.25f + 0.5f * smooth(5, 80, z));
          s.a = vs(s.a, 1 + (noise2(wx * 0.7f, z * 2.6f) - 0.5f) * 0.5f);
          s.ndl *= 0.3f;
        }
        out = lit(&r, &s, 1, 1, z);
        break;
      }
      default: {
        obj.hash = h;
        obj.x = 0;
        obj.z = z;
        obj.h = 1e9f;
        obj.w = 1;
        obj.variant = 0;
        s.ndl = 0.4f;
        if (c == DG_WORLD_BUILDING) {
          static const int facades[] = {DG_ATTR_RED,  DG_ATTR_YELLOW, DG_ATTR_WHITE,
                                        DG_ATTR_GREY, DG_ATTR_BLUE,   DG_ATTR_BROWN};
          obj.attr = attr && attr[p] < DG_ATTR_COUNT ? attr[p] : facades[h % 6];
          obj.variant = (int)(h >> 8) % 3;
          facade_shader(&r, &obj, wx, v, z, &s);
        } else if (c == DG_WORLD_CAR) {
          static const int cars[] = {DG_ATTR_RED,   DG_ATTR_BLUE,   DG_ATTR_WHITE,
                                     DG_ATTR_BLACK, DG_ATTR_YELLOW, DG_ATTR_GREEN};
          obj.attr = attr && attr[p] < DG_ATTR_COUNT ? attr[p] : cars[h % 6];
          obj.h = 1.5f;
          s.a = v < 0.3f                ? V(0.04f, 0.04f, 0.04f)
                : v > 0.95f && v < 1.4f ? V(0.06f, 0.07f, 0.09f)
                                        : car_paint(&r, &obj, fminf(v, 1.5f));
        } else if (c == DG_WORLD_TREE) {
          float clump = fbm2(wx * 2.4f, v * 2.4f, 2);
          s.a = vs(leaf_color(&r, h), 0.55f + 0.8f * clump);
          if (r.L.leaf_density < 0.5f) s.a = vmix(s.a, V(0.22f, 0.17f, 0.13f), 1 - 2 * r.L.leaf_density);
          if (r.L.cover > 0 && clump > 0.55f) s.a = vmix(s.a, r.L.snow, r.L.cover * 0.8f);
        } else if (c == DG_WORLD_PERSON) {
          s.a = v < 0.8f ? V(0.12f, 0.14f, 0.3f) : v < 1.5f ? shirts[h & 7] : V(0.8f, 0.6f, 0.48f);
        } else if (c == DG_WORLD_POLE) {
          s.a = V(0.33f, 0.35f, 0.37f);
        } else if (c == DG_WORLD_SIGN) {
          s.a = (h & 1) ? V(0.75f, 0.08f, 0.07f) : V(0.1f, 0.3f, 0.75f);
        } else if (c == DG_WORLD_FENCE) {
          s.a = V(0.45f, 0.32f, 0.2f);
        } else { // unlabelled: neutral grey
          s.a = V(0.5f, 0.5f, 0.5f);
        }
        out = lit(&r, &s, 1, 1, z);
      }
      }
      float *o = rgbf + 3 * (size_t)p;
      o[0] = out.r;
      o[1] = out.g;
      o[2] = out.b;
    }
  }
  r.rgb = rgbf;
  r.ao = rgbf + 3 * n;
  r.sc = &sc;
  weather_pass(&r);
  to_bytes(rgbf, rgb, n * 3, false);
  free(rgbf);
  free(base_z);
  free(run_bottom);
  free(comp);
  free(queue);
  return DG_OK;
}
