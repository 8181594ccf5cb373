// The procedural world: palette agreement with assets/palettes/world.json, determinism (same seed,
// same bytes), disjoint splits, label/image alignment, captions that mention exactly the visible
// objects with their true attributes, video stages that match the frames, rendering of a given label
// map, and the dataset writer (index fields, resuming, thread-count independence).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dg_png.h"
#include "dg_world.h"
#include "world_test.h"

enum { W = 256, H = 128, N = W * H };
static char dir[256];

static void test_palette_file(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/assets/palettes/world.json", DG_SOURCE_DIR);
  size_t n;
  char *text = wt_read_file(path, &n);
  dg_check(text != NULL, "read %s", path);
  if (!text) return;
  int found = 0;
  for (const char *p = text; (p = strstr(p, "{\"id\":")) != NULL; p++) {
    int id, r, g, b;
    char name[64];
    if (sscanf(p, "{\"id\": %d, \"name\": \"%63[^\"]\", \"color\": [%d, %d, %d]}", &id, name, &r, &g, &b) != 5)
      continue;
    found++;
    dg_check(id >= 0 && id < DG_WORLD_NUM_CLASSES, "palette id %d in range", id);
    if (id < 0 || id >= DG_WORLD_NUM_CLASSES) continue;
    const dg_world_class *c = &dg_world_classes[id];
    dg_check(!strcmp(c->name, name) && c->rgb[0] == r && c->rgb[1] == g && c->rgb[2] == b,
             "class %d: code has %s (%d %d %d), world.json has %s (%d %d %d)", id, c->name, c->rgb[0], c->rgb[1],
             c->rgb[2], name, r, g, b);
  }
  dg_check(found == DG_WORLD_NUM_CLASSES, "world.json lists %d classes, code %d", found, DG_WORLD_NUM_CLASSES);
  dg_check(strstr(text, "\"unlabelled\": 255") != NULL, "unlabelled id 255");
  free(text);
}

static void render(uint64_t seed, dg_world_style st, dg_world_scene *s, uint8_t *rgb, uint8_t *lab, uint16_t *inst) {
  dg_status r = dg_world_generate(seed, W, H, st, s);
  if (r == DG_OK) r = dg_world_render(s, rgb, lab, inst);
  dg_check(r == DG_OK, "render seed %llu: %s", (unsigned long long)seed, dg_last_error());
}

static void test_determinism(void) {
  static uint8_t a[N * 3], b[N * 3], la[N], lb[N];
  static dg_world_scene sa, sb;
  for (uint64_t seed = 100; seed < 106; seed++) {
    dg_world_style st = dg_world_style_random(seed);
    render(seed, st, &sa, a, la, NULL);
    render(seed, st, &sb, b, lb, NULL);
    dg_check(!memcmp(a, b, sizeof a) && !memcmp(la, lb, sizeof la) && !memcmp(&sa, &sb, sizeof sa),
             "seed %llu renders identically twice", (unsigned long long)seed);
  }
  render(7, dg_world_style_random(7), &sa, a, la, NULL);
  render(8, dg_world_style_random(8), &sb, b, lb, NULL);
  dg_check(memcmp(a, b, sizeof a) != 0, "different seeds give different images");
  // Same bytes on disk.
  char p1[512], p2[512];
  snprintf(p1, sizeof p1, "%s/det1", dir);
  snprintf(p2, sizeof p2, "%s/det2", dir);
  dg_check(dg_world_write_sample(p1, 77, W, H, NULL) == DG_OK, "sample 1: %s", dg_last_error());
  dg_check(dg_world_write_sample(p2, 77, W, H, NULL) == DG_OK, "sample 2: %s", dg_last_error());
  const char *files[] = {"world-77.png", "world-77-label.png", "world-77.json", "world-77-captions.json"};
  for (int k = 0; k < 4; k++) {
    char f1[600], f2[600];
    snprintf(f1, sizeof f1, "%s/%s", p1, files[k]);
    snprintf(f2, sizeof f2, "%s/%s", p2, files[k]);
    size_t n1 = 0, n2 = 0;
    char *c1 = wt_read_file(f1, &n1), *c2 = wt_read_file(f2, &n2);
    dg_check(c1 && c2 && n1 == n2 && n1 > 0 && !memcmp(c1, c2, n1), "%s identical across runs", files[k]);
    free(c1);
    free(c2);
  }
  // The label file holds what was rendered, and the image carries its text chunks.
  char lp[600], ip[600];
  snprintf(lp, sizeof lp, "%s/world-77-label.png", p1);
  snprintf(ip, sizeof ip, "%s/world-77.png", p1);
  static dg_world_scene s;
  render(77, dg_world_style_random(77), &s, a, la, NULL);
  int w = 0, h = 0;
  uint8_t *got = NULL;
  dg_check(dg_png_read_label(lp, dg_world_palette(), &w, &h, &got) == DG_OK && !memcmp(got, la, N),
           "label PNG equals the rendered label map: %s", dg_last_error());
  free(got);
  dg_png_text_list texts;
  dg_check(dg_png_read_texts(ip, &texts) == DG_OK, "texts: %s", dg_last_error());
  const char *seed_text = dg_png_text_find(&texts, "dirigent-world-seed");
  dg_check(seed_text && !strcmp(seed_text, "77"), "seed text chunk");
  dg_png_text_list_free(&texts);
}

// Projected screen box of an object's 3D extent, computed from the scene graph alone.
static void projected_box(const dg_world_scene *s, const dg_world_object *o, float box[4]) {
  float x0, x1, y1, z0 = o->z, z1 = o->z1;
  switch (o->cls) {
  case DG_WORLD_BUILDING: x0 = o->x < 0 ? o->x - o->w : o->x, x1 = o->x < 0 ? o->x : o->x + o->w, y1 = o->h; break;
  case DG_WORLD_CAR: x0 = o->x - o->w / 2, x1 = o->x + o->w / 2, y1 = o->h; break;
  case DG_WORLD_PERSON: x0 = o->x - 0.6f, x1 = o->x + 0.6f, y1 = o->h + 0.45f; break;
  case DG_WORLD_POLE: x0 = o->x - 1.7f, x1 = o->x + 1.7f, y1 = o->h; break;
  case DG_WORLD_SIGN: x0 = o->x - 0.35f, x1 = o->x + 0.35f, y1 = 2.6f; break;
  case DG_WORLD_TREE: x0 = o->x - o->w, x1 = o->x + o->w, y1 = o->h + 0.6f; break;
  default: x0 = x1 = o->x, y1 = o->h; break;
  }
  float f = s->focal * s->height, cx = s->vanish_x * s->width, hy = s->horizon * s->height;
  box[0] = box[1] = 1e9f;
  box[2] = box[3] = -1e9f;
  for (int k = 0; k < 8; k++) {
    float x = k & 1 ? x1 : x0, y = k & 2 ? y1 : 0, z = fmaxf(k & 4 ? z1 : z0, 0.8f);
    float px = cx + f * (x - s->cam_x) / z, py = hy - f * (y - s->cam_height) / z;
    box[0] = fminf(box[0], px), box[2] = fmaxf(box[2], px);
    box[1] = fminf(box[1], py), box[3] = fmaxf(box[3], py);
  }
}

static bool is_object_class(int c) { return c >= DG_WORLD_BUILDING && c != DG_WORLD_UNLABELLED; }

static void test_alignment(void) {
  static uint8_t rgb[N * 3], lab[N], flat[N * 3], flab[N];
  static uint16_t inst[N];
  static dg_world_scene s, s2;
  int objects = 0, bad_box = 0, bad_class = 0, bad_stuff = 0, bad_road = 0;
  for (uint64_t seed = 0; seed < 40; seed++) {
    render(seed, dg_world_style_random(seed), &s, rgb, lab, inst);
    // Flat rendering of the same (pruned) scene: every pixel shows exactly its label's palette colour.
    s2 = s;
    dg_world_render_ex(&s2, flat, flab, NULL, true, false);
    bool flat_ok = !memcmp(lab, flab, N);
    for (int i = 0; i < N && flat_ok; i++) {
      const uint8_t *c = dg_world_classes[flab[i]].rgb;
      flat_ok = flat[3 * i] == c[0] && flat[3 * i + 1] == c[1] && flat[3 * i + 2] == c[2];
    }
    dg_check(flat_ok, "seed %llu: flat render shows the label map in palette colours", (unsigned long long)seed);
    float f = s.focal * H, cx = s.vanish_x * W, hy = s.horizon * H;
    for (int i = 0; i < N; i++) {
      int x = i % W, y = i / W, c = lab[i];
      dg_check(c < DG_WORLD_NUM_CLASSES, "seed %llu pixel (%d,%d) unlabelled", (unsigned long long)seed, x, y);
      bool stuff = !is_object_class(c);
      if (stuff && inst[i]) bad_class++;
      if (!stuff) {
        const dg_world_object *o = NULL;
        for (int k = 0; k < s.n_objects; k++)
          if (s.objects[k].instance == inst[i]) o = &s.objects[k];
        if (!o || o->cls != c) bad_class++;
      }
      bool above = y + 0.5f <= hy;
      if ((c == DG_WORLD_SKY || c == DG_WORLD_CLOUD || c == DG_WORLD_MOUNTAIN) && !above) bad_stuff++;
      if ((c == DG_WORLD_ROAD || c == DG_WORLD_SIDEWALK || c == DG_WORLD_GRASS || c == DG_WORLD_WATER) && above)
        bad_stuff++;
      if (c == DG_WORLD_ROAD) { // a road pixel's ground point lies on the road
        float z = f * s.cam_height / (y + 0.5f - hy), gx = s.cam_x + (x + 0.5f - cx) * z / f;
        if (fabsf(gx) >= s.road_half) bad_road++;
      }
    }
    for (int k = 0; k < s.n_objects; k++) {
      const dg_world_object *o = &s.objects[k];
      float box[4];
      projected_box(&s, o, box);
      objects++;
      int count = 0;
      for (int i = 0; i < N; i++) {
        if (inst[i] != o->instance) continue;
        count++;
        int x = i % W, y = i / W;
        if (x + 1 < box[0] - 1 || x > box[2] + 1 || y + 1 < box[1] - 1 || y > box[3] + 1) bad_box++;
      }
      dg_check(count == o->pixels && count > 0, "seed %llu object %d: %d pixels, scene says %d",
               (unsigned long long)seed, o->instance, count, o->pixels);
    }
  }
  dg_check(objects > 100, "enough objects checked (%d)", objects);
  dg_check(bad_box == 0, "%d object pixels outside the object's projected box", bad_box);
  dg_check(bad_class == 0, "%d pixels whose class disagrees with the instance map", bad_class);
  dg_check(bad_stuff == 0, "%d sky pixels below or ground pixels above the horizon", bad_stuff);
  dg_check(bad_road == 0, "%d road pixels off the road", bad_road);

  // Colours where the labels say: cars show their attribute colour, sky is blue and grass green by day.
  dg_world_style day = {DG_TIME_DAY, DG_WEATHER_CLEAR, DG_SEASON_SUMMER};
  int cars = 0, wrong = 0;
  double sky[3] = {0}, grass[3] = {0}, road = 0, walk = 0;
  int n_sky = 0, n_grass = 0, n_road = 0, n_walk = 0;
  for (uint64_t seed = 200; seed < 260; seed++) {
    render(seed, day, &s, rgb, lab, inst);
    for (int i = 0; i < N; i++) {
      const uint8_t *p = rgb + 3 * i;
      float l = (p[0] + p[1] + p[2]) / 3.0f;
      if (lab[i] == DG_WORLD_SKY) n_sky++, sky[0] += p[0], sky[1] += p[1], sky[2] += p[2];
      if (lab[i] == DG_WORLD_GRASS) n_grass++, grass[0] += p[0], grass[1] += p[1], grass[2] += p[2];
      if (lab[i] == DG_WORLD_ROAD) n_road++, road += l;
      if (lab[i] == DG_WORLD_SIDEWALK) n_walk++, walk += l;
    }
    for (int k = 0; k < s.n_objects; k++) {
      const dg_world_object *o = &s.objects[k];
      if (o->cls != DG_WORLD_CAR || o->pixels < 60) continue;
      // The car's paint: the most common hue class among its pixels, by the attribute's test.
      int votes = 0, total = 0;
      for (int i = 0; i < N; i++) {
        if (inst[i] != o->instance) continue;
        const uint8_t *p = rgb + 3 * i;
        int r = p[0], g = p[1], b = p[2], mx = r > g ? (r > b ? r : b) : (g > b ? g : b),
            mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
        bool v = false;
        switch (o->attr) {
        case DG_ATTR_RED: v = r > g + 40 && r > b + 40; break;
        case DG_ATTR_BLUE: v = b > r + 30 && b > g + 10; break;
        case DG_ATTR_WHITE: v = mn > 85 && mx - mn < 45; break; // grey in shade
        case DG_ATTR_BLACK: v = mx < 60; break;
        case DG_ATTR_YELLOW: v = r > b + 60 && g > b + 40; break;
        case DG_ATTR_GREEN: v = g > r + 25 && g > b + 10; break;
        }
        votes += v;
        total++;
      }
      cars++;
      if (votes < total / 4) {
        wrong++;
        double m[3] = {0};
        for (int i = 0; i < N; i++)
          if (inst[i] == o->instance)
            for (int c = 0; c < 3; c++)
              m[c] += rgb[3 * i + c] / (double)total;
        printf("  mean colour %.0f %.0f %.0f\n", m[0], m[1], m[2]);
        printf("  seed %llu car %d (%s): only %d of %d pixels look %s\n", (unsigned long long)seed, o->instance,
               dg_world_attr_names[o->attr], votes, total, dg_world_attr_names[o->attr]);
      }
    }
  }
  dg_check(cars >= 20 && wrong == 0, "%d of %d cars do not show their colour attribute", wrong, cars);
  dg_check(n_sky && sky[2] > sky[0] * 1.15, "clear day sky is blue (%.0f %.0f %.0f)", sky[0] / n_sky, sky[1] / n_sky,
           sky[2] / n_sky);
  dg_check(n_grass && grass[1] > grass[0] && grass[1] > grass[2] * 1.3, "summer grass is green (%.0f %.0f %.0f)",
           grass[0] / n_grass, grass[1] / n_grass, grass[2] / n_grass);
  dg_check(n_road && n_walk && road / n_road < walk / n_walk, "asphalt darker than sidewalk (%.0f vs %.0f)",
           road / n_road, walk / n_walk);
}

// The mean luminance of all pixels (0..255).
static double mean_lum(const uint8_t *rgb) {
  double s = 0;
  for (int i = 0; i < N * 3; i++)
    s += rgb[i];
  return s / (N * 3);
}

static void test_styles(void) {
  static uint8_t rgb[N * 3], lab[N];
  static dg_world_scene s;
  // The same scene in every time of day and weather: night is darker; the style changes every class.
  double lum[DG_TIME_COUNT];
  for (int t = 0; t < DG_TIME_COUNT; t++) {
    dg_world_style st = {(dg_world_time)t, DG_WEATHER_CLEAR, DG_SEASON_SUMMER};
    lum[t] = 0;
    for (uint64_t seed = 300; seed < 310; seed++) {
      render(seed, st, &s, rgb, lab, NULL);
      lum[t] += mean_lum(rgb) / 10;
    }
  }
  dg_check(lum[DG_TIME_DAY] > lum[DG_TIME_SUNSET] && lum[DG_TIME_SUNSET] > lum[DG_TIME_NIGHT] * 1.15 &&
               lum[DG_TIME_NIGHT] < 0.45 * lum[DG_TIME_DAY],
           "brightness day %.1f > sunset %.1f > night %.1f", lum[0], lum[1], lum[2]);
  // Snow cover whitens the ground.
  double ground[2] = {0};
  for (int k = 0; k < 2; k++) {
    dg_world_style st = {DG_TIME_DAY, k ? DG_WEATHER_SNOW : DG_WEATHER_CLEAR, k ? DG_SEASON_WINTER : DG_SEASON_SUMMER};
    int n = 0;
    for (uint64_t seed = 320; seed < 330; seed++) {
      render(seed, st, &s, rgb, lab, NULL);
      for (int i = 0; i < N; i++)
        if (lab[i] == DG_WORLD_GRASS || lab[i] == DG_WORLD_SIDEWALK)
          ground[k] += (rgb[3 * i] + rgb[3 * i + 1] + rgb[3 * i + 2]) / 3.0, n++;
    }
    ground[k] /= n ? n : 1;
  }
  dg_check(ground[1] > ground[0] + 40, "snowy ground (%.0f) much brighter than summer ground (%.0f)", ground[1],
           ground[0]);
  // Weather alone (same scene graph) changes the image but not the label map.
  static uint8_t rgb2[N * 3], lab2[N];
  dg_world_style a = {DG_TIME_DAY, DG_WEATHER_CLEAR, DG_SEASON_AUTUMN},
                 b = {DG_TIME_DAY, DG_WEATHER_FOG, DG_SEASON_AUTUMN};
  dg_world_generate(333, W, H, a, &s);
  dg_world_scene s2 = s;
  s2.style = b;
  s2.mood = dg_world_mood_of(b);
  dg_world_render_ex(&s, rgb, lab, NULL, false, false);
  dg_world_render_ex(&s2, rgb2, lab2, NULL, false, false);
  // Weather may change the cloud cover; every other class stays where it was.
  int moved = 0;
  for (int i = 0; i < N; i++) {
    bool sky1 = lab[i] == DG_WORLD_SKY || lab[i] == DG_WORLD_CLOUD,
         sky2 = lab2[i] == DG_WORLD_SKY || lab2[i] == DG_WORLD_CLOUD;
    moved += sky1 != sky2 || (!sky1 && lab[i] != lab2[i]);
  }
  dg_check(moved == 0 && memcmp(rgb, rgb2, sizeof rgb) != 0, "fog changes pixels, not labels (%d moved)", moved);
}

static const char *noun(int cls, int count) {
  switch (cls) {
  case DG_WORLD_CAR: return count > 1 ? "cars" : "car";
  case DG_WORLD_PERSON: return count > 1 ? "people" : "person";
  case DG_WORLD_TREE: return count > 1 ? "trees" : "tree";
  case DG_WORLD_POLE: return count > 1 ? "street lamps" : "street lamp";
  case DG_WORLD_SIGN: return count > 1 ? "traffic signs" : "traffic sign";
  case DG_WORLD_BUILDING: return count > 1 ? "buildings" : "building";
  case DG_WORLD_FENCE: return count > 1 ? "fences" : "fence";
  }
  return "?";
}

static bool span_is(const char *text, const int span[2], const char *word) {
  int n = span[1] - span[0];
  return span[0] >= 0 && n == (int)strlen(word) && !strncmp(text + span[0], word, (size_t)n);
}

static void test_captions(void) {
  static uint8_t rgb[N * 3], lab[N];
  static dg_world_scene s;
  int checked = 0, kinds[3] = {0};
  for (uint64_t seed = 1000; seed < 1150; seed++) {
    render(seed, dg_world_style_random(seed), &s, rgb, lab, NULL);
    dg_world_caption caps[DG_WORLD_MAX_CAPTIONS];
    int nc = dg_world_captions(&s, caps);
    dg_check(nc == DG_WORLD_MAX_CAPTIONS, "seed %llu: %d captions", (unsigned long long)seed, nc);
    int per_class[DG_WORLD_NUM_CLASSES] = {0}, per_attr[DG_WORLD_NUM_CLASSES][DG_ATTR_COUNT] = {{0}};
    for (int k = 0; k < s.n_objects; k++) {
      per_class[s.objects[k].cls]++;
      if (s.objects[k].attr >= 0) per_attr[s.objects[k].cls][s.objects[k].attr]++;
      dg_check(s.objects[k].pixels > 0, "described objects are visible");
    }
    for (int c = 0; c < nc; c++) {
      const dg_world_caption *cap = &caps[c];
      int mentioned[DG_WORLD_NUM_CLASSES] = {0};
      for (int r = 0; r < cap->n_roles; r++) {
        const dg_world_role *ro = &cap->roles[r];
        checked++;
        dg_check(span_is(cap->text, ro->object, noun(ro->cls, ro->count)), "'%s': object span [%d,%d) is not '%s'",
                 cap->text, ro->object[0], ro->object[1], noun(ro->cls, ro->count));
        if (ro->attr >= 0) {
          dg_check(span_is(cap->text, ro->attribute, dg_world_attr_names[ro->attr]), "'%s': attribute span is not '%s'",
                   cap->text, dg_world_attr_names[ro->attr]);
          // The attribute is true: that many objects of this class have this colour.
          int have = per_attr[ro->cls][ro->attr];
          dg_check(strcmp(cap->kind, "short") ? have == ro->count : have >= 1,
                   "'%s': %d %s %s in the scene, caption says %d", cap->text, have, dg_world_attr_names[ro->attr],
                   noun(ro->cls, 2), ro->count);
        } else {
          dg_check(ro->attribute[0] == -1, "no attribute span without an attribute");
          dg_check(!strcmp(cap->kind, "short") ? per_class[ro->cls] >= 1 : per_class[ro->cls] == ro->count,
                   "'%s': %d %s in the scene, caption says %d", cap->text, per_class[ro->cls], noun(ro->cls, 2),
                   ro->count);
        }
        mentioned[ro->cls] += ro->count;
      }
      if (!strcmp(cap->kind, "count")) {
        kinds[2]++;
        for (int cls = DG_WORLD_BUILDING; cls < DG_WORLD_NUM_CLASSES; cls++)
          dg_check(mentioned[cls] == per_class[cls], "'%s': mentions %d %s, scene has %d", cap->text, mentioned[cls],
                   noun(cls, 2), per_class[cls]);
      } else if (!strcmp(cap->kind, "list")) {
        kinds[1]++;
        if (per_class[DG_WORLD_CAR] + per_class[DG_WORLD_BUILDING])
          dg_check(mentioned[DG_WORLD_CAR] == per_class[DG_WORLD_CAR] &&
                       mentioned[DG_WORLD_BUILDING] == per_class[DG_WORLD_BUILDING],
                   "'%s': list mentions every car and building (%d/%d cars, %d/%d buildings)", cap->text,
                   mentioned[DG_WORLD_CAR], per_class[DG_WORLD_CAR], mentioned[DG_WORLD_BUILDING],
                   per_class[DG_WORLD_BUILDING]);
      } else {
        kinds[0]++;
        const char *adj[] = {NULL, "foggy", "rainy", "snowy"};
        if (adj[s.style.weather])
          dg_check(strstr(cap->text, adj[s.style.weather]) != NULL, "'%s' names the weather", cap->text);
        if (s.style.time == DG_TIME_NIGHT)
          dg_check(strstr(cap->text, "at night") != NULL, "'%s' says night", cap->text);
        if (s.style.time == DG_TIME_SUNSET)
          dg_check(strstr(cap->text, "at sunset") != NULL, "'%s' says sunset", cap->text);
        dg_check(!strstr(cap->text, s.style.time == DG_TIME_NIGHT ? "sunset" : "night"), "'%s': no wrong time",
                 cap->text);
      }
    }
    if (seed == 1000)
      for (int c = 0; c < nc; c++)
        printf("  %-5s %s\n", caps[c].kind, caps[c].text);
  }
  dg_check(checked > 500 && kinds[0] && kinds[1] && kinds[2], "%d roles checked", checked);
}

static void test_video(void) {
  static uint8_t rgb[N * 3], lab[N];
  static dg_world_clip clip;
  static dg_world_scene s;
  for (int frames = 16; frames <= 64; frames *= 2) {
    for (uint64_t seed = 40; seed < 48; seed++) {
      dg_check(dg_world_clip_plan(seed, W, H, frames, &clip) == DG_OK, "plan: %s", dg_last_error());
      dg_check(clip.kind == (dg_world_clip_kind)(seed % DG_CLIP_COUNT), "clip kind from the seed");
      int expect = clip.kind == DG_CLIP_MOTION ? 1 : clip.kind == DG_CLIP_WEATHER ? 2 : 3;
      dg_check(clip.n_stages == expect && clip.stages[0].start == 0 && clip.stages[clip.n_stages - 1].end == frames - 1,
               "%s clip stages cover the clip", dg_world_clip_names[clip.kind]);
      for (int k = 0; k + 1 < clip.n_stages; k++)
        dg_check(clip.stages[k].end < clip.stages[k + 1].start && clip.stages[k].start <= clip.stages[k].end,
                 "stages ordered and disjoint");
      for (int f = 0; f < frames; f++) {
        dg_world_clip_frame(&clip, f, &s);
        int in = -1;
        for (int k = 0; k < clip.n_stages; k++)
          if (f >= clip.stages[k].start && f <= clip.stages[k].end) in = k;
        if (in >= 0) {
          dg_check(!memcmp(&s.mood, &clip.stages[in].mood, sizeof s.mood), "frame %d holds stage %d's mood", f, in);
        } else {
          dg_check(memcmp(&s.mood, &clip.stages[0].mood, sizeof s.mood) &&
                       memcmp(&s.mood, &clip.stages[clip.n_stages - 1].mood, sizeof s.mood),
                   "transition frame %d differs from the end stages", f);
        }
      }
    }
  }
  // Rendered frames follow their stages: darker at night, whiter in snow, autumn foliage, moving cars.
  for (uint64_t seed = 60; seed < 64; seed++) {
    dg_world_clip_plan(seed, W, H, 16, &clip);
    double first = 0, last = 0, tree_first[3] = {0}, tree_last[3] = {0};
    int car_first = -1, car_last = -1;
    for (int k = 0; k < 2; k++) {
      int f = k ? clip.stages[clip.n_stages - 1].end : clip.stages[0].start;
      dg_world_clip_frame(&clip, f, &s);
      dg_check(dg_world_render_ex(&s, rgb, lab, NULL, false, false) == DG_OK, "render frame");
      *(k ? &last : &first) = mean_lum(rgb);
      for (int i = 0; i < N; i++)
        if (lab[i] == DG_WORLD_TREE)
          for (int c = 0; c < 3; c++)
            (k ? tree_last : tree_first)[c] += rgb[3 * i + c];
      for (int j = 0; j < s.n_objects; j++)
        if (s.objects[j].cls == DG_WORLD_CAR) {
          *(k ? &car_last : &car_first) = s.objects[j].bbox[3] - s.objects[j].bbox[1];
          break;
        }
    }
    switch (clip.kind) {
    case DG_CLIP_TIME:
      dg_check(last < first * 0.6, "time clip: night (%.1f) darker than day (%.1f)", last, first);
      break;
    case DG_CLIP_WEATHER:
      dg_check(fabs(last - first) > 3, "weather clip changes the image (%.1f vs %.1f)", first, last);
      break;
    case DG_CLIP_SEASON:
      dg_check(tree_first[0] == 0 || tree_first[1] > tree_first[0], "season clip starts green");
      dg_check(last > first, "season clip ends whiter (%.1f vs %.1f)", last, first);
      break;
    default:
      dg_check(car_first != car_last, "motion clip: the car moves (height %d -> %d px)", car_first, car_last);
      break;
    }
  }
}

static void test_render_labels(void) {
  static uint8_t rgb[N * 3], lab[N], out[N * 3], out2[N * 3];
  static dg_world_scene s;
  render(5, (dg_world_style){DG_TIME_DAY, DG_WEATHER_CLEAR, DG_SEASON_SUMMER}, &s, rgb, lab, NULL);
  dg_world_mood day = dg_world_mood_of((dg_world_style){DG_TIME_DAY, DG_WEATHER_CLEAR, DG_SEASON_SUMMER});
  dg_world_mood night = dg_world_mood_of((dg_world_style){DG_TIME_NIGHT, DG_WEATHER_CLEAR, DG_SEASON_SUMMER});
  dg_check(dg_world_render_labels(lab, NULL, W, H, day, 9, out) == DG_OK, "render labels: %s", dg_last_error());
  dg_check(dg_world_render_labels(lab, NULL, W, H, day, 9, out2) == DG_OK && !memcmp(out, out2, sizeof out), "deterministic");
  double sky[3] = {0};
  for (int i = 0; i < N; i++)
    if (lab[i] == DG_WORLD_SKY)
      for (int c = 0; c < 3; c++)
        sky[c] += out[3 * i + c];
  dg_check(sky[2] > sky[0], "rendered label map: sky is blue by day");
  dg_world_render_labels(lab, NULL, W, H, night, 9, out2);
  dg_check(mean_lum(out2) < mean_lum(out) * 0.6, "night rendering of the label map is darker");
  // A painted layout: sky above, road below, a car box.
  for (int i = 0; i < N; i++) {
    int x = i % W, y = i / W;
    lab[i] = y < 50 ? DG_WORLD_SKY : DG_WORLD_ROAD;
    if (x > 100 && x < 140 && y > 60 && y < 90) lab[i] = DG_WORLD_CAR;
    if (x < 5) lab[i] = DG_WORLD_UNLABELLED;
  }
  dg_check(dg_world_render_labels(lab, NULL, W, H, day, 1, out) == DG_OK, "painted layout renders");
  lab[3] = 77;
  dg_check_error(dg_world_render_labels(lab, NULL, W, H, day, 1, out), DG_ERR_ARG, "class 77", "bad class rejected");
}

static bool file_exists(const char *dirname, const char *rel) {
  char p[4096];
  snprintf(p, sizeof p, "%s/%s", dirname, rel);
  struct stat st;
  return stat(p, &st) == 0 && st.st_size > 0;
}

static void test_dataset(void) {
  uint64_t b[3];
  dg_check(dg_world_split_base("train", &b[0]) == DG_OK && dg_world_split_base("val", &b[1]) == DG_OK &&
               dg_world_split_base("test", &b[2]) == DG_OK,
           "split bases");
  dg_check(b[0] + DG_WORLD_SPLIT_RANGE <= b[1] && b[1] + DG_WORLD_SPLIT_RANGE <= b[2],
           "split seed ranges are disjoint");
  dg_check_error(dg_world_split_base("dev", &b[0]), DG_ERR_ARG, "dev", "unknown split");
  const char *splits[] = {"train", "val", "test"};
  char dirs[3][512];
  uint64_t seeds[3][4];
  for (int k = 0; k < 3; k++) {
    snprintf(dirs[k], sizeof dirs[k], "%s/ds-%s", dir, splits[k]);
    dg_world_dataset_opts o = {.dir = dirs[k], .split = splits[k], .count = 4, .width = W, .height = H, .threads = 2};
    dg_world_dataset_stats st;
    dg_check(dg_world_dataset(&o, &st) == DG_OK && st.written == 4, "%s set: %s", splits[k], dg_last_error());
    char ip[4096];
    snprintf(ip, sizeof ip, "%s/index.jsonl", dirs[k]);
    size_t n;
    char *idx = wt_read_file(ip, &n);
    dg_check(idx != NULL, "index exists");
    if (!idx) continue;
    int lines = 0;
    for (char *line = idx; *line; lines++) {
      char *end = strchr(line, '\n');
      if (!end) break;
      *end = 0;
      const char *fields[] = {"\"id\": ",
                              "\"seed\": ",
                              "\"width\": 256",
                              "\"height\": 128",
                              "\"image\": \"images/",
                              "\"label\": \"labels/",
                              "\"scene\": \"scenes/",
                              "\"style\": {\"time\": ",
                              "\"captions\": [",
                              "\"roles\": [",
                              "\"kind\": \"short\"",
                              "\"kind\": \"list\"",
                              "\"kind\": \"count\""};
      for (int f = 0; f < 13; f++)
        dg_check(strstr(line, fields[f]) != NULL, "index line has %s", fields[f]);
      char id[64], img[128];
      unsigned long long seed = 0;
      dg_check(sscanf(line, "{\"id\": \"%63[^\"]\", \"seed\": %llu", id, &seed) == 2, "id and seed parse");
      char want[64];
      snprintf(want, sizeof want, "%s-%07d", splits[k], lines);
      dg_check(!strcmp(id, want) && seed == b[k] + (uint64_t)lines, "line %d: id %s seed %llu", lines, id, seed);
      if (lines < 4) seeds[k][lines] = seed;
      snprintf(img, sizeof img, "images/%s.png", id);
      dg_check(file_exists(dirs[k], img), "%s exists", img);
      snprintf(img, sizeof img, "labels/%s.png", id);
      dg_check(file_exists(dirs[k], img), "%s exists", img);
      line = end + 1;
    }
    dg_check(lines == 4, "%d index lines", lines);
    free(idx);
    // Resuming skips everything that exists; a lost sample is redone.
    dg_check(dg_world_dataset(&o, &st) == DG_OK && st.written == 0 && st.skipped == 4, "resume skips all");
    if (k == 0) {
      char meta[2048];
      snprintf(meta, sizeof meta, "%s/meta/train-0000002.json", dirs[k]);
      remove(meta);
      dg_check(dg_world_dataset(&o, &st) == DG_OK && st.written == 1 && st.skipped == 3, "resume redoes one");
    }
  }
  for (int a = 0; a < 3; a++)
    for (int c = a + 1; c < 3; c++)
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
          dg_check(seeds[a][i] != seeds[c][j], "splits share seed %llu", (unsigned long long)seeds[a][i]);
  // One thread or two: the same bytes.
  char one[512];
  snprintf(one, sizeof one, "%s/ds-train-1", dir);
  dg_world_dataset_opts o1 = {.dir = one, .split = "train", .count = 4, .width = W, .height = H, .threads = 1};
  dg_world_dataset_stats st;
  dg_check(dg_world_dataset(&o1, &st) == DG_OK, "single-thread set");
  const char *same[] = {"index.jsonl", "images/train-0000003.png", "labels/train-0000001.png",
                        "scenes/train-0000000.json"};
  for (int f = 0; f < 4; f++) {
    char p1[700], p2[700];
    snprintf(p1, sizeof p1, "%s/%s", one, same[f]);
    snprintf(p2, sizeof p2, "%s/%s", dirs[0], same[f]);
    size_t n1 = 0, n2 = 0;
    char *c1 = wt_read_file(p1, &n1), *c2 = wt_read_file(p2, &n2);
    dg_check(c1 && c2 && n1 == n2 && !memcmp(c1, c2, n1), "%s identical with 1 and 2 threads", same[f]);
    free(c1);
    free(c2);
  }
  // Video clips.
  char vd[512];
  snprintf(vd, sizeof vd, "%s/ds-video", dir);
  dg_world_dataset_opts ov = {
      .dir = vd, .split = "val", .count = 2, .width = 64, .height = 32, .threads = 2, .video = true, .frames = 4};
  dg_check(dg_world_dataset(&ov, &st) == DG_OK && st.written == 2, "video set: %s", dg_last_error());
  dg_check(file_exists(vd, "videos/val-v000001/img_003.png") && file_exists(vd, "videos/val-v000001/lab_003.png") &&
               file_exists(vd, "videos/val-v000000/scene.json"),
           "video frames written");
  char ip[600];
  snprintf(ip, sizeof ip, "%s/index.jsonl", vd);
  size_t n;
  char *idx = wt_read_file(ip, &n);
  const char *vf[] = {
      "\"id\": \"val-v000000\"",    "\"frames\": 4",   "\"frame_images\": [\"videos/val-v000000/img_000.png\"",
      "\"frame_labels\": [",        "\"caption\": \"", "\"transition\": \"",
      "\"stages\": [{\"text\": \"", "\"start\": 0"};
  for (int f = 0; f < 8; f++)
    dg_check(idx && strstr(idx, vf[f]), "video index has %s", vf[f]);
  free(idx);
  // Bad options are errors, not crashes.
  dg_world_dataset_opts bad = o1;
  bad.split = "dev";
  dg_check_error(dg_world_dataset(&bad, &st), DG_ERR_ARG, "dev", "bad split");
  bad = o1;
  bad.count = 0;
  dg_check_error(dg_world_dataset(&bad, &st), DG_ERR_ARG, "count", "zero count");
  bad = ov;
  bad.frames = 1;
  dg_check_error(dg_world_dataset(&bad, &st), DG_ERR_ARG, "frames", "one frame");
}

int main(void) {
  snprintf(dir, sizeof dir, "%s/world-test-XXXXXX", DG_BUILD_DIR);
  if (!mkdtemp(dir)) return 1;
  test_palette_file();
  test_determinism();
  test_alignment();
  test_styles();
  test_captions();
  test_video();
  test_render_labels();
  test_dataset();
  dg_world_scene s;
  dg_check_error(dg_world_generate(1, 8, 8, dg_world_style_random(1), &s), DG_ERR_ARG, "8x8", "tiny image");
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) printf("note: could not remove %s\n", dir);
  return dg_check_finish("test_world");
}
