#include "dg_palette.h"

#include "dg_assets.h"
#include "dg_file.h"
#include "dg_json.h"
#include "dg_json_glib.h" // DG_JSON_MAX_SMALL

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct dg_palette {
  char *name;
  int count;
  dg_palette_class *classes; // sorted by id (ids are dense from 0)
  uint8_t unlabelled_rgb[3];
};

void dg_palette_free(dg_palette *p) {
  if (!p) return;
  for (int i = 0; i < p->count; i++)
    free(p->classes[i].name);
  free(p->classes);
  free(p->name);
  free(p);
}

dg_palette *dg_palette_new(const char *title, int n, const char *const *names, const uint8_t (*rgb)[3]) {
  if (n < 1 || n > 255) return NULL;
  dg_palette *p = calloc(1, sizeof *p);
  p->name = strdup(title);
  p->count = n;
  p->classes = calloc((size_t)n, sizeof *p->classes);
  for (int i = 0; i < n; i++) {
    p->classes[i].id = i;
    p->classes[i].name = strdup(names[i]);
    memcpy(p->classes[i].rgb, rgb[i], 3);
  }
  return p;
}

static bool read_rgb(const dg_json_value *v, uint8_t rgb[3]) {
  if (!v || v->type != DG_JSON_ARRAY || v->count != 3) return false;
  for (int c = 0; c < 3; c++) {
    const dg_json_value *e = v->items[c];
    if (e->type != DG_JSON_NUMBER || !e->is_uint || e->uint > 255) return false;
    rgb[c] = (uint8_t)e->uint;
  }
  return true;
}

// The strict JSON parser (dg_json: depth-limited, UTF-8 checked), not json-glib, whose recursion a
// deeply nested file overflows and whose typed getters warn on members of another type.
dg_palette *dg_palette_parse(const char *json, long length, dg_status *status) {
  dg_palette *p = NULL;
  dg_json *doc = NULL;
  *status = length < 0 ? dg_fail(DG_ERR_ARG, "palette: negative length")
                       : dg_json_parse(json, (size_t)length, "palette", 0, 0, &doc);
  if (*status != DG_OK) return NULL;
  const dg_json_value *o = dg_json_root(doc);
  if (o->type != DG_JSON_OBJECT) {
    *status = dg_fail(DG_ERR_FORMAT, "palette: top level is not an object");
    goto done;
  }
  const dg_json_value *classes = dg_json_get(o, "classes");
  if (!classes || classes->type != DG_JSON_ARRAY) {
    *status = dg_fail(DG_ERR_FORMAT, "palette: no \"classes\" array");
    goto done;
  }
  if (classes->count < 1 || classes->count > 255) {
    *status = dg_fail(DG_ERR_FORMAT, "palette: %zu classes (need 1..255)", classes->count);
    goto done;
  }
  int n = (int)classes->count;
  p = calloc(1, sizeof *p);
  p->classes = calloc((size_t)n, sizeof *p->classes);
  p->count = n;
  const dg_json_value *unlabelled = dg_json_get(o, "unlabelled_color");
  if (unlabelled && !read_rgb(unlabelled, p->unlabelled_rgb)) {
    *status = dg_fail(DG_ERR_FORMAT, "palette: \"unlabelled_color\" is not [r, g, b] in 0..255");
    goto done;
  }
  const dg_json_value *pname = dg_json_get(o, "name");
  if (pname && pname->type != DG_JSON_STRING) {
    *status = dg_fail(DG_ERR_FORMAT, "palette: \"name\" is not a string");
    goto done;
  }
  p->name = strdup(pname ? pname->str : "palette");
  for (int i = 0; i < n; i++) {
    const dg_json_value *c = classes->items[i];
    const dg_json_value *id = dg_json_get(c, "id"), *name = dg_json_get(c, "name");
    if (!id || id->type != DG_JSON_NUMBER || id->number != floor(id->number) || !name || name->type != DG_JSON_STRING) {
      *status = dg_fail(DG_ERR_FORMAT, "palette: class %d needs an integer \"id\" and a string \"name\"", i);
      goto done;
    }
    if (id->number != i) {
      *status = dg_fail(DG_ERR_FORMAT, "palette: class %d has id %g (ids must be dense from 0)", i, id->number);
      goto done;
    }
    p->classes[i].id = i;
    p->classes[i].name = strdup(name->str);
    if (!read_rgb(dg_json_get(c, "color"), p->classes[i].rgb)) {
      *status =
          dg_fail(DG_ERR_FORMAT, "palette: class %d (%s) \"color\" is not [r, g, b] in 0..255", i, p->classes[i].name);
      goto done;
    }
  }
done:
  dg_json_free(doc);
  if (*status != DG_OK) {
    dg_palette_free(p);
    return NULL;
  }
  return p;
}

dg_palette *dg_palette_load(const char *path, dg_status *status) {
  char *text = NULL;
  size_t len = 0;
  if ((*status = dg_file_read(path, DG_JSON_MAX_SMALL, &text, &len)) != DG_OK) return NULL;
  dg_palette *p = dg_palette_parse(text, (long)len, status);
  free(text);
  if (!p) {
    char *msg = strdup(dg_last_error());
    dg_fail(*status, "%s: %s", path, msg);
    free(msg);
  }
  return p;
}

const char *const dg_palette_builtin[DG_PALETTE_BUILTIN_COUNT] = {"world", "ade20k", "cityscapes"};

bool dg_palette_is_builtin(const char *name) {
  for (int i = 0; name && i < DG_PALETTE_BUILTIN_COUNT; i++)
    if (!strcmp(name, dg_palette_builtin[i])) return true;
  return false;
}

static dg_palette *load_asset(const char *name, dg_status *status) {
  gchar *rel = g_strdup_printf("palettes/%s.json", name), *path = dg_assets_path(rel);
  dg_palette *p = NULL;
  if (g_file_test(path, G_FILE_TEST_EXISTS)) p = dg_palette_load(path, status);
  else *status = dg_fail(DG_ERR_IO, "palette: %s not found (set DIRIGENT_ASSETS)", path);
  g_free(path);
  g_free(rel);
  return p;
}

dg_palette *dg_palette_load_named(const char *name_or_path, dg_status *status) {
  if (!name_or_path || !*name_or_path) {
    *status = dg_fail(DG_ERR_ARG, "palette: no name given");
    return NULL;
  }
  if (dg_palette_is_builtin(name_or_path)) return load_asset(name_or_path, status);
  if (!strchr(name_or_path, '/') && !g_str_has_suffix(name_or_path, ".json")) {
    *status = dg_fail(DG_ERR_ARG, "palette \"%s\": not world, ade20k, cityscapes or a .json file", name_or_path);
    return NULL;
  }
  return dg_palette_load(name_or_path, status);
}

dg_palette *dg_palette_load_default(dg_status *status) {
  gchar *path = dg_assets_path("palettes/world.json");
  dg_palette *p = NULL;
  if (g_file_test(path, G_FILE_TEST_EXISTS)) p = dg_palette_load(path, status);
  else *status = dg_fail(DG_ERR_IO, "palette: %s not found (set DIRIGENT_ASSETS)", path);
  g_free(path);
  return p;
}

int dg_palette_count(const dg_palette *p) { return p->count; }
const dg_palette_class *dg_palette_class_at(const dg_palette *p, int index) {
  return index >= 0 && index < p->count ? &p->classes[index] : NULL;
}
const dg_palette_class *dg_palette_find(const dg_palette *p, int id) { return dg_palette_class_at(p, id); }

void dg_palette_color(const dg_palette *p, int id, uint8_t rgb[3]) {
  const uint8_t *src = id >= 0 && id < p->count ? p->classes[id].rgb : p->unlabelled_rgb;
  memcpy(rgb, src, 3);
}

int dg_palette_lookup_rgb(const dg_palette *p, const uint8_t rgb[3]) {
  for (int i = 0; i < p->count; i++)
    if (!memcmp(p->classes[i].rgb, rgb, 3)) return i;
  if (!memcmp(p->unlabelled_rgb, rgb, 3)) return DG_UNLABELLED;
  return -1;
}

const char *dg_palette_name(const dg_palette *p, int id) {
  if (id == DG_UNLABELLED) return "unlabelled";
  return id >= 0 && id < p->count ? p->classes[id].name : NULL;
}

const char *dg_palette_title(const dg_palette *p) { return p->name; }

int dg_palette_find_name(const dg_palette *p, const char *name) {
  if (!name) return -1;
  while (*name == ' ') name++;
  size_t n = strlen(name);
  while (n && name[n - 1] == ' ') n--;
  for (int i = 0; i < p->count; i++)
    if (strlen(p->classes[i].name) == n && !g_ascii_strncasecmp(p->classes[i].name, name, n)) return i;
  return -1;
}
