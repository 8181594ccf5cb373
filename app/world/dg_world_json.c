// JSON text of scene graphs and captions (docs/world-format.md).
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_world.h"
#include "dg_world_json.h"

void dg_json_init(dg_json *j) {
  j->cap = 1024;
  j->len = 0;
  j->s = malloc(j->cap);
  j->failed = !j->s;
  if (j->s) j->s[0] = 0;
}

void dg_json_add(dg_json *j, const char *fmt, ...) {
  if (j->failed) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(j->s + j->len, j->cap - j->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
      j->failed = true;
      return;
    }
    if ((size_t)n < j->cap - j->len) {
      j->len += (size_t)n;
      return;
    }
    char *grown = realloc(j->s, j->cap * 2 + (size_t)n);
    if (!grown) {
      j->failed = true;
      return;
    }
    j->s = grown;
    j->cap = j->cap * 2 + (size_t)n;
  }
}

void dg_json_str(dg_json *j, const char *s) {
  dg_json_add(j, "\"");
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      dg_json_add(j, "\\%c", c);
    else if (c < 0x20)
      dg_json_add(j, "\\u%04x", c);
    else
      dg_json_add(j, "%c", c);
  }
  dg_json_add(j, "\"");
}

char *dg_json_finish(dg_json *j) {
  if (j->failed) {
    free(j->s);
    return NULL;
  }
  return j->s;
}

static const char *side_names[] = {"buildings", "park", "water", "field"};

void dg_json_style(dg_json *j, dg_world_style st) {
  dg_json_add(j, "{\"time\": \"%s\", \"weather\": \"%s\", \"season\": \"%s\"}", dg_world_time_names[st.time],
              dg_world_weather_names[st.weather], dg_world_season_names[st.season]);
}

void dg_json_captions(dg_json *j, const dg_world_caption *caps, int n) {
  dg_json_add(j, "[");
  for (int i = 0; i < n; i++) {
    const dg_world_caption *c = &caps[i];
    dg_json_add(j, "%s{\"text\": ", i ? ", " : "");
    dg_json_str(j, c->text);
    dg_json_add(j, ", \"kind\": \"%s\", \"roles\": [", c->kind);
    for (int k = 0; k < c->n_roles; k++) {
      const dg_world_role *r = &c->roles[k];
      dg_json_add(j, "%s{\"object\": [%d, %d], \"attribute\": ", k ? ", " : "", r->object[0], r->object[1]);
      if (r->attribute[0] >= 0)
        dg_json_add(j, "[%d, %d]", r->attribute[0], r->attribute[1]);
      else
        dg_json_add(j, "null");
      dg_json_add(j, ", \"class\": \"%s\", \"attr\": ", dg_world_classes[r->cls].name);
      if (r->attr >= 0)
        dg_json_add(j, "\"%s\"", dg_world_attr_names[r->attr]);
      else
        dg_json_add(j, "null");
      dg_json_add(j, ", \"count\": %d}", r->count);
    }
    dg_json_add(j, "]}");
  }
  dg_json_add(j, "]");
}

char *dg_world_captions_json(const dg_world_caption *captions, int n) {
  dg_json j;
  dg_json_init(&j);
  dg_json_captions(&j, captions, n);
  return dg_json_finish(&j);
}

char *dg_world_scene_json(const dg_world_scene *s, const dg_world_caption *captions, int n_captions) {
  dg_json j;
  dg_json_init(&j);
  dg_json_add(&j, "{\"seed\": %llu, \"width\": %d, \"height\": %d, \"layout\": \"%s\",\n \"style\": ",
              (unsigned long long)s->seed, s->width, s->height, dg_world_layout_names[s->layout]);
  dg_json_style(&j, s->style);
  dg_json_add(&j, ",\n \"mood\": {\"time\": %.4g, \"fog\": %.4g, \"rain\": %.4g, \"snow\": %.4g, \"season\": %.4g},\n",
              s->mood.time, s->mood.fog, s->mood.rain, s->mood.snow, s->mood.season);
  dg_json_add(&j,
              " \"camera\": {\"horizon\": %.4g, \"vanish_x\": %.4g, \"focal\": %.4g, \"x\": %.4g, \"height\": %.4g},\n",
              s->horizon, s->vanish_x, s->focal, s->cam_x, s->cam_height);
  dg_json_add(
      &j,
      " \"road\": {\"half_width\": %.4g, \"sidewalk\": %.4g, \"crossing_z\": %.4g}, \"sides\": [\"%s\", \"%s\"], "
      "\"water_x\": %.4g, \"mountains\": %.4g, \"cloudiness\": %.4g, \"cloud_shift\": %.4g, \"sun_side\": %g,\n",
      s->road_half, s->walk_width, s->crossing_z, side_names[s->side[0]], side_names[s->side[1]], s->water_x,
      s->mountains, s->cloudiness, s->cloud_shift, s->sun_side);
  dg_json_add(&j, " \"objects\": [");
  for (int i = 0; i < s->n_objects; i++) {
    const dg_world_object *o = &s->objects[i];
    dg_json_add(&j, "%s\n  {\"instance\": %d, \"class\": \"%s\", \"attribute\": ", i ? "," : "", o->instance,
                dg_world_classes[o->cls].name);
    if (o->attr >= 0)
      dg_json_add(&j, "\"%s\"", dg_world_attr_names[o->attr]);
    else
      dg_json_add(&j, "null");
    dg_json_add(&j,
                ", \"variant\": %d, \"x\": %.4g, \"z\": %.4g, \"z1\": %.4g, \"width\": %.4g, \"height\": %.4g, "
                "\"heading\": %g, \"pixels\": %d, \"bbox\": [%d, %d, %d, %d]}",
                o->variant, o->x, o->z, o->z1, o->w, o->h, o->heading, o->pixels, o->bbox[0], o->bbox[1], o->bbox[2],
                o->bbox[3]);
  }
  dg_json_add(&j, "],\n \"captions\": ");
  dg_json_captions(&j, captions, captions ? n_captions : 0);
  dg_json_add(&j, "}\n");
  return dg_json_finish(&j);
}
