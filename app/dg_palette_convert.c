#include "dg_palette_convert.h"

#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Names that mean the same pixels in the shipped palettes (world, ADE20K-150, Cityscapes-19), tried in
// both directions, in this order, only when the exact name is missing. Each pair is a labelling rule of
// the target dataset, not a likeness: Cityscapes labels trees, hedges and bushes "vegetation" and grass
// and soil "terrain", a rider's person "rider", vans "car", street lamps "pole"; ADE20K labels clouds
// as "sky", road signs "signboard", motorbikes "minibike", a house and a skyscraper are buildings.
static const char *const synonyms[][2] = {
    {"sign", "traffic sign"},  {"sign", "signboard"},      {"traffic sign", "signboard"},
    {"tree", "vegetation"},    {"plant", "vegetation"},    {"palm", "vegetation"},
    {"flower", "vegetation"},  {"grass", "terrain"},       {"earth", "terrain"},
    {"field", "terrain"},      {"land", "terrain"},        {"cloud", "sky"},
    {"rider", "person"},       {"van", "car"},             {"motorcycle", "minibike"},
    {"streetlight", "pole"},   {"house", "building"},      {"skyscraper", "building"},
    {"sea", "water"},          {"river", "water"},         {"lake", "water"},
};

int dg_palette_match_name(const dg_palette *to, const char *name) {
  int id = dg_palette_find_name(to, name);
  for (size_t i = 0; id < 0 && i < sizeof synonyms / sizeof *synonyms; i++)
    for (int side = 0; side < 2 && id < 0; side++)
      if (!g_ascii_strcasecmp(synonyms[i][side], name)) id = dg_palette_find_name(to, synonyms[i][!side]);
  return id;
}

void dg_palette_map_make(const dg_palette *from, const dg_palette *to, dg_palette_map *out) {
  memset(out->to, DG_UNLABELLED, sizeof out->to);
  out->matched = 0;
  for (int i = 0; i < dg_palette_count(from) && i < DG_UNLABELLED; i++) {
    int id = dg_palette_match_name(to, dg_palette_class_at(from, i)->name);
    if (id >= 0) out->to[i] = (uint8_t)id, out->matched++;
  }
}

void dg_palette_convert_ids(const dg_palette *from, const dg_palette *to, uint8_t *ids, size_t n,
                            dg_palette_conversion *report) {
  dg_palette_map map;
  dg_palette_map_make(from, to, &map);
  bool lost[256] = {false};
  int pixels = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t v = map.to[ids[i]];
    if (v == DG_UNLABELLED && ids[i] != DG_UNLABELLED) lost[ids[i]] = true, pixels++;
    ids[i] = v;
  }
  if (!report) return;
  memset(report, 0, sizeof *report);
  report->unmatched_pixels = pixels;
  size_t used = 0, cap = sizeof report->unmatched;
  for (int i = 0; i < 255; i++) {
    if (!lost[i]) continue;
    const char *name = dg_palette_name(from, i);
    char id_name[16];
    if (!name) snprintf(id_name, sizeof id_name, "id %d", i), name = id_name;
    report->unmatched_count++;
    size_t need = strlen(name) + (used ? 2 : 0);
    if (used + need + 4 >= cap) {
      if (used + 5 < cap) strcpy(report->unmatched + used, ", ..."), used += 5;
      continue;
    }
    used += (size_t)snprintf(report->unmatched + used, cap - used, "%s%s", used ? ", " : "", name);
  }
}

void dg_palette_to_png(const dg_palette *p, dg_png_palette *out) {
  memset(out, 0, sizeof *out);
  out->n_classes = dg_palette_count(p);
  for (int i = 0; i < out->n_classes; i++)
    dg_palette_color(p, i, out->rgb[i]);
  dg_palette_color(p, DG_UNLABELLED, out->unlabelled_rgb);
}

dg_status dg_palette_convert_document(dg_document *doc, const dg_palette *from, const dg_palette *to, const char *name,
                                      dg_palette_conversion *report) {
  size_t n = (size_t)dg_document_width(doc) * dg_document_height(doc);
  uint8_t *ids = malloc(n);
  if (!ids) return dg_fail(DG_ERR_OOM, "the converted layout (%zu bytes)", n);
  memcpy(ids, dg_document_layout(doc), n);
  dg_palette_convert_ids(from, to, ids, n, report);
  dg_status s = dg_document_set_palette_layout(doc, name ? name : dg_palette_title(to), ids);
  free(ids);
  return s;
}
