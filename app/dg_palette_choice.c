#include "dg_palette_choice.h"

#include <glib.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char **dg_palette_class_names(const dg_palette *p) {
  int n = dg_palette_count(p);
  const char **names = calloc((size_t)n + 1, sizeof *names);
  for (int i = 0; names && i < n; i++)
    names[i] = dg_palette_class_at(p, i)->name;
  return names;
}

static void say(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t size, const char *fmt, ...) {
  if (!why || !size) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, size, fmt, ap);
  va_end(ap);
}

static bool same_names(const dg_palette *p, char *const *names, int n) {
  if (dg_palette_count(p) != n) return false;
  for (int i = 0; i < n; i++)
    if (dg_palette_find_name(p, names[i]) != i) return false;
  return true;
}

// A distinct colour for class i of a palette made from names: hues spaced by the golden angle.
static void generated_color(int i, uint8_t rgb[3]) {
  double h = fmod(i * 0.618033988749895, 1.0) * 6, v = i % 2 ? 0.95 : 0.7, s = 0.8;
  int k = (int)h;
  double f = h - k, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  double r[6] = {v, q, p, p, t, v}, g[6] = {t, v, v, q, p, p}, b[6] = {p, p, t, v, v, q};
  rgb[0] = (uint8_t)lround(r[k] * 255), rgb[1] = (uint8_t)lround(g[k] * 255), rgb[2] = (uint8_t)lround(b[k] * 255);
}

static dg_palette *from_names(char *const *names, int n, dg_palette *const *shipped) {
  uint8_t(*rgb)[3] = calloc((size_t)n, sizeof *rgb);
  for (int i = 0; i < n; i++) {
    bool found = false;
    for (int b = 0; b < DG_PALETTE_BUILTIN_COUNT && !found; b++) {
      int id = shipped[b] ? dg_palette_find_name(shipped[b], names[i]) : -1;
      if (id < 0) continue;
      uint8_t c[3];
      dg_palette_color(shipped[b], id, c);
      bool used = !c[0] && !c[1] && !c[2]; // black is the unlabelled colour
      for (int j = 0; j < i && !used; j++)
        used = !memcmp(rgb[j], c, 3);
      if (!used) memcpy(rgb[i], c, 3), found = true;
    }
    for (int k = i; !found; k += 255) { // the next generated colour no earlier class holds
      generated_color(k, rgb[i]);
      found = true;
      for (int j = 0; j < i && found; j++)
        found = memcmp(rgb[j], rgb[i], 3) != 0;
    }
  }
  dg_palette *p = dg_palette_new("model", n, (const char *const *)names, (const uint8_t(*)[3])rgb);
  free(rgb);
  return p;
}

dg_palette *dg_palette_for_control(const dg_model_control_info *info, char *why, size_t why_size, dg_status *status) {
  *status = DG_OK;
  if (!info->present) {
    say(why, why_size, "no layout ControlNet: the default palette");
    return dg_palette_load_named("world", status);
  }
  if (info->class_names) {
    dg_palette *shipped[DG_PALETTE_BUILTIN_COUNT] = {0};
    dg_palette *chosen = NULL;
    for (int b = 0; b < DG_PALETTE_BUILTIN_COUNT; b++) {
      shipped[b] = dg_palette_load_named(dg_palette_builtin[b], status);
      if (!shipped[b]) break;
      if (!chosen && same_names(shipped[b], info->class_names, info->n_class_names)) {
        chosen = shipped[b], shipped[b] = NULL;
        say(why, why_size, "the ControlNet's class names are those of the %s palette", dg_palette_builtin[b]);
      }
    }
    if (*status == DG_OK && !chosen) {
      chosen = from_names(info->class_names, info->n_class_names, shipped);
      say(why, why_size, "a palette of the ControlNet's %d class names", info->n_class_names);
    }
    for (int b = 0; b < DG_PALETTE_BUILTIN_COUNT; b++)
      dg_palette_free(shipped[b]);
    if (*status != DG_OK) dg_palette_free(chosen), chosen = NULL;
    return chosen;
  }
  if (!info->id_hint) {
    say(why, why_size, "a colour-hint ControlNet without class names: ADE20K colours (stock segmentation ControlNets)");
    return dg_palette_load_named("ade20k", status);
  }
  const char *name = info->table_classes == 14    ? "world"
                     : info->table_classes == 19  ? "cityscapes"
                     : info->table_classes == 150 ? "ade20k"
                                                  : NULL;
  if (name) {
    say(why, why_size, "the ControlNet's class table has %d classes: %s", info->table_classes, name);
    return dg_palette_load_named(name, status);
  }
  if (info->table_classes >= 0)
    *status = dg_fail(DG_ERR_ARG, "the layout ControlNet's class table has %d classes and no names: choose a palette",
                      info->table_classes);
  else
    *status = dg_fail(DG_ERR_ARG, "the layout ControlNet (ALDM class embeddings) stores neither a class table nor "
                                  "class names: choose a palette (cityscapes or ade20k for ALDM's checkpoints)");
  return NULL;
}
