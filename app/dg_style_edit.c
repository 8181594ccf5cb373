#include "dg_style_edit.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "dg_command.h"
#include "dg_memory.h"
#include "dg_image.h"
#include "dg_png.h"
#include "dg_world.h"

// Applies `change` to a copy of the document's style and sets it (one undo step, validated).
static dg_status edit(dg_document *doc, void (*change)(dg_style *s, const void *arg), const void *arg, bool coalesce) {
  dg_style s;
  dg_style_init(&s);
  dg_style_copy(&s, dg_document_style(doc));
  change(&s, arg);
  dg_status st = dg_document_set_style(doc, &s, coalesce);
  dg_style_clear(&s);
  return st;
}

typedef struct slot_arg {
  dg_style_slot slot;
  dg_style_image *img;
} slot_arg;
static void set_slot(dg_style *s, const void *p) {
  const slot_arg *a = p;
  dg_style_image_unref(s->slot[a->slot]);
  s->slot[a->slot] = dg_style_image_ref(a->img);
}
dg_status dg_style_edit_set_slot(dg_document *doc, dg_style_slot slot, dg_style_image *img) {
  if (slot != DG_STYLE_CONTENT && slot != DG_STYLE_EXEMPLAR) return dg_fail(DG_ERR_ARG, "style: no slot %d", (int)slot);
  return edit(doc, set_slot, &(slot_arg){slot, img}, false);
}

static void set_method(dg_style *s, const void *p) { s->method = *(const dg_stylize_method *)p; }
dg_status dg_style_edit_set_method(dg_document *doc, dg_stylize_method method) {
  return edit(doc, set_method, &method, false);
}

static void set_strength(dg_style *s, const void *p) { s->strength = *(const double *)p; }
dg_status dg_style_edit_set_strength(dg_document *doc, double strength, bool coalesce) {
  return edit(doc, set_strength, &strength, coalesce);
}

dg_status dg_style_result(const dg_result *source, const dg_media *rgb, const dg_style *style, dg_result *out) {
  memset(out, 0, sizeof *out);
  if (source) {
    dg_result empty = *source;
    empty.rgba = NULL, empty.width = empty.height = 0; // the settings only; the pixels are the stylized ones
    DG_TRY(dg_result_copy(out, &empty));
    free(out->style);
    out->style = NULL;
  }
  size_t n = (size_t)rgb->width * rgb->height;
  free(out->rgba);
  out->rgba = malloc(n * 4);
  if (!out->rgba) {
    dg_result_clear(out);
    return dg_memory_fail("a stylized result", n * 4);
  }
  for (size_t p = 0; p < n; p++) {
    memcpy(out->rgba + 4 * p, rgb->data + 3 * p, 3);
    out->rgba[4 * p + 3] = 255;
  }
  out->width = rgb->width, out->height = rgb->height;
  char *d = dg_style_describe(style);
  out->style = strdup(d);
  g_free(d);
  return DG_OK;
}

dg_status dg_style_edit_add_result(dg_document *doc, dg_result *styled) {
  int index = dg_document_result_count(doc);
  dg_result *after = styled, *before = NULL;
  dg_command *cmd = dg_results_command_new(1, &index, &before, &after);
  if (!cmd) {
    dg_result_clear(styled);
    return DG_ERR_OOM;
  }
  dg_document_execute(doc, cmd);
  return DG_OK;
}

dg_status dg_style_edit_replace_results(dg_document *doc, int n, const int *index, dg_result *styled) {
  dg_result *before = calloc((size_t)n, sizeof *before);
  dg_result **bp = calloc((size_t)n, sizeof *bp), **ap = calloc((size_t)n, sizeof *ap);
  dg_status s = before && bp && ap ? DG_OK : dg_memory_fail("a results undo step", (uint64_t)n * sizeof *before);
  for (int k = 0; s == DG_OK && k < n; k++) {
    const dg_result *r = dg_document_result(doc, index[k]);
    s = r ? dg_result_copy(&before[k], r) : dg_fail(DG_ERR_ARG, "style: no result %d", index[k] + 1);
    bp[k] = &before[k], ap[k] = &styled[k];
  }
  dg_command *cmd = s == DG_OK ? dg_results_command_new(n, index, bp, ap) : NULL;
  if (cmd)
    dg_document_execute(doc, cmd);
  else {
    for (int k = 0; k < n; k++) {
      if (before) dg_result_clear(&before[k]);
      dg_result_clear(&styled[k]);
    }
    if (s == DG_OK) s = DG_ERR_OOM;
  }
  free(before), free(bp), free(ap);
  return s;
}

dg_status dg_style_edit_replace_by_id(dg_document *doc, int n, const uint64_t *ids, dg_result *styled, int *replaced) {
  *replaced = 0;
  int *index = calloc((size_t)n + 1, sizeof *index);
  if (!index) {
    for (int k = 0; k < n; k++)
      dg_result_clear(&styled[k]);
    return dg_memory_fail("a results undo step", (uint64_t)n * sizeof *index);
  }
  int m = 0; // the results still there move to the front of styled, the others are freed
  for (int k = 0; k < n; k++) {
    int at = styled[k].rgba ? dg_document_result_find(doc, ids[k]) : -1;
    if (at < 0) {
      dg_result_clear(&styled[k]);
      continue;
    }
    index[m] = at;
    if (m != k) styled[m] = styled[k], memset(&styled[k], 0, sizeof styled[k]);
    m++;
  }
  dg_status s = m ? dg_style_edit_replace_results(doc, m, index, styled) : DG_OK;
  if (s == DG_OK) *replaced = m;
  free(index);
  return s;
}

dg_style_image *dg_style_image_from_file(const char *path) {
  dg_png_limits lim = {.max_side = DG_STYLE_MAX_SIDE};
  uint8_t *rgb = NULL;
  int w = 0, h = 0;
  if (dg_image_read(path, 3, &lim, &w, &h, &rgb) != DG_OK) return NULL;
  if (w < 2 || h < 2) {
    free(rgb);
    dg_fail(DG_ERR_ARG, "%s is %dx%d: an exemplar needs at least 2x2 pixels", path, w, h);
    return NULL;
  }
  uint8_t *rgba = malloc((size_t)w * h * 4);
  dg_style_image *img = NULL;
  if (rgba) {
    for (size_t p = 0; p < (size_t)w * h; p++)
      memcpy(rgba + 4 * p, rgb + 3 * p, 3), rgba[4 * p + 3] = 255;
    char *source = g_strdup_printf("file %s", path);
    img = dg_style_image_new(w, h, rgba, source);
    g_free(source);
  } else
    dg_memory_fail("an exemplar", (uint64_t)w * h * 4);
  free(rgb), free(rgba);
  return img;
}

dg_style_image *dg_style_image_from_result(const dg_document *doc, int index) {
  const dg_result *r = dg_document_result(doc, index);
  if (!r) {
    dg_fail(DG_ERR_ARG, "style: no result %d (%d results)", index + 1, dg_document_result_count(doc));
    return NULL;
  }
  char *source = g_strdup_printf("result %d", index + 1);
  dg_style_image *img = dg_style_image_new(r->width, r->height, r->rgba, source);
  g_free(source);
  return img;
}

dg_style_image *dg_style_image_from_world(uint64_t seed, int width, int height) {
  size_t n = (size_t)width * height;
  dg_world_scene *scene = malloc(sizeof *scene);
  uint8_t *rgb = malloc(n * 3), *label = malloc(n), *rgba = malloc(n * 4);
  dg_status s = scene && rgb && label && rgba ? DG_OK : dg_memory_fail("a world sample", n * 8 + sizeof *scene);
  if (s == DG_OK) s = dg_world_generate(seed, width, height, dg_world_style_random(seed), scene);
  if (s == DG_OK) s = dg_world_render(scene, rgb, label, NULL);
  dg_style_image *img = NULL;
  if (s == DG_OK) {
    for (size_t p = 0; p < n; p++)
      memcpy(rgba + 4 * p, rgb + 3 * p, 3), rgba[4 * p + 3] = 255;
    char *source = g_strdup_printf("world %llu", (unsigned long long)seed);
    img = dg_style_image_new(width, height, rgba, source);
    g_free(source);
  }
  free(scene), free(rgb), free(label), free(rgba);
  return img;
}
