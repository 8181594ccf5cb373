#include "dg_document.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_command.h"
#include "dg_guidance.h"
#include "dg_memory.h"
#include "dg_palette.h"
#include "dg_settings.h"

_Static_assert(DG_DOC_MAX_STEPS == DG_SETTINGS_MAX_STEPS && DG_DOC_MAX_SIDE == DG_GENERATE_MAX_SIDE,
               "the document's limits are the shared generation settings' rules");

struct dg_document {
  int width, height;
  uint8_t *layout;
  char *prompt, *negative, *model, *palette, *marks, *attn_guidance;
  uint64_t seed;
  bool seed_random;
  bool live;
  int steps;
  double guidance;
  double control_scale; // the layout strength
  dg_timeline timeline;
  dg_video_result **videos; // every generated video, oldest first (each malloc'd)
  int video_count, current_video; // current: the one the timeline player shows, -1 for none
  dg_style style;

  dg_result *results;
  int result_count, current_result;
  uint64_t last_result_id; // the id given to the result stored last (dg_result.id)

  dg_command **history; // the undo stack: [0, history_pos) done, [history_pos, history_len) undone
  int history_len, history_pos;

  int edit_depth;
  uint8_t *edit_before;                       // the layout when the outermost edit began
  int touch_x0, touch_y0, touch_x1, touch_y1; // bounding box of written pixels (x1/y1 exclusive)

  uint64_t generation;
  dg_document_listener listener;
  void *listener_user;
};

static char **text_slot(dg_document *doc, dg_doc_field f) {
  switch (f) {
  case DG_FIELD_PROMPT: return &doc->prompt;
  case DG_FIELD_NEGATIVE: return &doc->negative;
  case DG_FIELD_MODEL: return &doc->model;
  case DG_FIELD_PALETTE: return &doc->palette;
  case DG_FIELD_MARKS: return &doc->marks;
  case DG_FIELD_ATTN_GUIDANCE: return &doc->attn_guidance;
  default: return NULL;
  }
}

static void notify(dg_document *doc, int what, int x, int y, int w, int h) {
  doc->generation++;
  if (doc->listener) doc->listener(doc, what, x, y, w, h, doc->listener_user);
}

dg_document *dg_document_new(int height, int width) {
  if (width < 1 || height < 1 || width > DG_DOC_MAX_SIDE || height > DG_DOC_MAX_SIDE) {
    dg_fail(DG_ERR_ARG, "document: size %dx%d (height x width) outside 1..%d", height, width, DG_DOC_MAX_SIDE);
    return NULL;
  }
  dg_document *doc = calloc(1, sizeof *doc);
  if (!doc || !(doc->layout = malloc((size_t)width * height))) {
    free(doc);
    dg_memory_fail("the document's layout", (uint64_t)width * height);
    return NULL;
  }
  doc->width = width;
  doc->height = height;
  memset(doc->layout, DG_UNLABELLED, (size_t)width * height);
  doc->prompt = strdup("");
  doc->negative = strdup("");
  doc->model = strdup("default");
  doc->palette = strdup("world");
  doc->marks = strdup("");
  doc->attn_guidance = strdup("none");
  doc->seed = 1;
  doc->seed_random = false;
  doc->steps = 20;
  doc->guidance = 7.5;
  doc->control_scale = 1.0;
  dg_timeline_init(&doc->timeline);
  dg_style_init(&doc->style);
  doc->current_result = -1;
  doc->current_video = -1;
  return doc;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

dg_document *dg_document_copy(const dg_document *doc) {
  dg_document *c = dg_document_new(doc->height, doc->width);
  if (!c) return NULL;
  memcpy(c->layout, doc->layout, (size_t)doc->width * doc->height);
  dg_document_store_text(c, DG_FIELD_PROMPT, doc->prompt);
  dg_document_store_text(c, DG_FIELD_NEGATIVE, doc->negative);
  dg_document_store_text(c, DG_FIELD_MODEL, doc->model);
  dg_document_store_text(c, DG_FIELD_PALETTE, doc->palette);
  dg_document_store_text(c, DG_FIELD_MARKS, doc->marks);
  dg_document_store_text(c, DG_FIELD_ATTN_GUIDANCE, doc->attn_guidance);
  c->seed = doc->seed;
  c->seed_random = doc->seed_random;
  c->live = doc->live;
  c->steps = doc->steps;
  c->guidance = doc->guidance;
  c->control_scale = doc->control_scale;
  if (dg_timeline_copy(&c->timeline, &doc->timeline) != DG_OK) {
    dg_document_free(c);
    return NULL;
  }
  c->results = calloc((size_t)doc->result_count + 1, sizeof(dg_result));
  for (int i = 0; c->results && i < doc->result_count; i++) {
    if (dg_result_copy(&c->results[i], &doc->results[i]) != DG_OK) break;
    c->result_count = i + 1;
  }
  if (!c->results || c->result_count != doc->result_count) {
    const dg_result *r = c->results ? &doc->results[c->result_count] : NULL;
    uint64_t bytes = r ? (uint64_t)r->width * r->height * 4 : ((uint64_t)doc->result_count + 1) * sizeof(dg_result);
    dg_document_free(c);
    dg_memory_fail("a copy of the document's results", bytes);
    return NULL;
  }
  c->current_result = doc->current_result;
  c->last_result_id = doc->last_result_id;
  dg_style_copy(&c->style, &doc->style);
  for (int i = 0; i < doc->video_count; i++) {
    dg_video_result *v = malloc(sizeof *v);
    if (v) dg_video_result_init(v);
    if (!v || dg_video_result_copy(v, doc->videos[i]) != DG_OK) {
      if (!v) dg_memory_fail("a copy of the document's video", sizeof *v);
      free(v);
      dg_document_free(c);
      return NULL;
    }
    dg_document_store_insert_video(c, i, v, doc->current_video);
  }
  c->generation = 0;
  return c;
}

void dg_result_clear(dg_result *r) {
  free(r->rgba);
  free(r->prompt);
  free(r->negative);
  free(r->model);
  free(r->marks);
  free(r->attn_guidance);
  free(r->style);
  memset(r, 0, sizeof *r);
}

dg_status dg_result_copy(dg_result *dst, const dg_result *src) {
  size_t bytes = (size_t)src->width * src->height * 4;
  *dst = *src;
  dst->rgba = malloc(bytes ? bytes : 1);
  if (dst->rgba && bytes) memcpy(dst->rgba, src->rgba, bytes);
  dst->prompt = dup_or_null(src->prompt);
  dst->negative = dup_or_null(src->negative);
  dst->model = dup_or_null(src->model);
  dst->marks = dup_or_null(src->marks);
  dst->attn_guidance = dup_or_null(src->attn_guidance);
  dst->style = dup_or_null(src->style);
  if (!dst->rgba) {
    dg_result_clear(dst);
    return dg_memory_fail("a copy of a result", bytes);
  }
  return DG_OK;
}

static void command_free(dg_command *cmd) { cmd->type->free(cmd); }

void dg_document_free(dg_document *doc) {
  if (!doc) return;
  for (int i = 0; i < doc->history_len; i++)
    command_free(doc->history[i]);
  for (int i = 0; i < doc->result_count; i++)
    dg_result_clear(&doc->results[i]);
  for (int f = 0; f < DG_FIELD_COUNT; f++)
    if (text_slot(doc, f)) free(*text_slot(doc, f));
  dg_timeline_clear(&doc->timeline);
  for (int i = 0; i < doc->video_count; i++) {
    dg_video_result_clear(doc->videos[i]);
    free(doc->videos[i]);
  }
  free(doc->videos);
  dg_style_clear(&doc->style);
  free(doc->history);
  free(doc->results);
  free(doc->edit_before);
  free(doc->layout);
  free(doc);
}

void dg_document_set_listener(dg_document *doc, dg_document_listener fn, void *user) {
  doc->listener = fn;
  doc->listener_user = user;
}

int dg_document_width(const dg_document *doc) { return doc->width; }
int dg_document_height(const dg_document *doc) { return doc->height; }
const uint8_t *dg_document_layout(const dg_document *doc) { return doc->layout; }
int dg_document_pixel(const dg_document *doc, int x, int y) {
  if (x < 0 || y < 0 || x >= doc->width || y >= doc->height) return -1;
  return doc->layout[(size_t)y * doc->width + x];
}

void dg_document_class_areas(const dg_document *doc, int64_t counts[256]) {
  memset(counts, 0, 256 * sizeof counts[0]);
  size_t n = (size_t)doc->width * doc->height;
  for (size_t i = 0; i < n; i++)
    counts[doc->layout[i]]++;
}

// ---- history -------------------------------------------------------------------------------------

void dg_document_push(dg_document *doc, dg_command *cmd) {
  for (int i = doc->history_pos; i < doc->history_len; i++)
    command_free(doc->history[i]);
  doc->history_len = doc->history_pos;
  if (doc->history_len == DG_DOC_HISTORY_LIMIT) {
    command_free(doc->history[0]);
    memmove(doc->history, doc->history + 1, (size_t)(doc->history_len - 1) * sizeof *doc->history);
    doc->history_len--;
  }
  if (!doc->history) doc->history = calloc(DG_DOC_HISTORY_LIMIT, sizeof *doc->history);
  doc->history[doc->history_len++] = cmd;
  doc->history_pos = doc->history_len;
  notify(doc, DG_CHANGED_HISTORY, 0, 0, 0, 0);
}

void dg_document_execute(dg_document *doc, dg_command *cmd) {
  cmd->type->apply(cmd, doc, true);
  dg_command *top = doc->history_pos > 0 ? doc->history[doc->history_pos - 1] : NULL;
  if (top && cmd->coalescing && top->coalescing && doc->history_pos == doc->history_len && top->type == cmd->type &&
      top->type->merge && top->type->merge(top, cmd)) {
    command_free(cmd);
    return;
  }
  dg_document_push(doc, cmd);
}

bool dg_document_can_undo(const dg_document *doc) { return doc->history_pos > 0; }
bool dg_document_can_redo(const dg_document *doc) { return doc->history_pos < doc->history_len; }
int dg_document_undo_depth(const dg_document *doc) { return doc->history_pos; }
const char *dg_document_undo_name(const dg_document *doc) {
  return doc->history_pos > 0 ? doc->history[doc->history_pos - 1]->type->name : NULL;
}
const char *dg_document_redo_name(const dg_document *doc) {
  return doc->history_pos < doc->history_len ? doc->history[doc->history_pos]->type->name : NULL;
}
void dg_document_seal_history(dg_document *doc) {
  if (doc->history_pos > 0) doc->history[doc->history_pos - 1]->coalescing = false;
}
void dg_document_clear_history(dg_document *doc) {
  for (int i = 0; i < doc->history_len; i++)
    command_free(doc->history[i]);
  doc->history_len = doc->history_pos = 0;
  notify(doc, DG_CHANGED_HISTORY, 0, 0, 0, 0);
}
uint64_t dg_document_generation(const dg_document *doc) { return doc->generation; }

size_t dg_document_history_bytes(const dg_document *doc) {
  size_t bytes = 0;
  for (int i = 0; i < doc->history_len; i++)
    bytes += doc->history[i]->type->size(doc->history[i]);
  return bytes;
}

bool dg_document_undo(dg_document *doc) {
  if (doc->edit_depth > 0 || doc->history_pos == 0) return false;
  dg_command *cmd = doc->history[--doc->history_pos];
  cmd->type->apply(cmd, doc, false);
  notify(doc, DG_CHANGED_HISTORY, 0, 0, 0, 0);
  return true;
}

bool dg_document_redo(dg_document *doc) {
  if (doc->edit_depth > 0 || doc->history_pos == doc->history_len) return false;
  dg_command *cmd = doc->history[doc->history_pos++];
  cmd->type->apply(cmd, doc, true);
  notify(doc, DG_CHANGED_HISTORY, 0, 0, 0, 0);
  return true;
}

// ---- stores (no history) -------------------------------------------------------------------------

void dg_document_store_pixels(dg_document *doc, int x, int y, int w, int h, const uint8_t *ids) {
  for (int r = 0; r < h; r++)
    memcpy(doc->layout + (size_t)(y + r) * doc->width + x, ids + (size_t)r * w, (size_t)w);
  notify(doc, DG_CHANGED_LAYOUT, x, y, w, h);
}

void dg_document_store_text(dg_document *doc, dg_doc_field field, const char *text) {
  char **slot = text_slot(doc, field);
  if (!slot) return;
  free(*slot);
  *slot = strdup(text ? text : "");
  notify(doc, DG_CHANGED_FIELD(field), 0, 0, 0, 0);
}

dg_status dg_document_store_timeline(dg_document *doc, const dg_timeline *t) {
  DG_TRY(dg_timeline_copy(&doc->timeline, t));
  notify(doc, DG_CHANGED_TIMELINE, 0, 0, 0, 0);
  return DG_OK;
}

const dg_timeline *dg_document_timeline(const dg_document *doc) { return &doc->timeline; }

dg_status dg_document_set_timeline(dg_document *doc, const dg_timeline *t, bool coalesce) {
  DG_TRY(dg_timeline_check(t));
  if (dg_timeline_equal(&doc->timeline, t)) return DG_OK;
  dg_command *cmd = dg_timeline_command_new(&doc->timeline, t, coalesce);
  if (!cmd) return DG_ERR_OOM;
  dg_document_execute(doc, cmd);
  return DG_OK;
}

void dg_document_store_style(dg_document *doc, const dg_style *style) {
  dg_style_copy(&doc->style, style);
  notify(doc, DG_CHANGED_STYLE, 0, 0, 0, 0);
}

const dg_style *dg_document_style(const dg_document *doc) { return &doc->style; }

dg_status dg_document_set_style(dg_document *doc, const dg_style *style, bool coalesce) {
  DG_TRY(dg_style_check(style));
  if (dg_style_equal(&doc->style, style)) return DG_OK;
  dg_command *cmd = dg_style_command_new(&doc->style, style, coalesce);
  if (!cmd) return DG_ERR_OOM;
  dg_document_execute(doc, cmd);
  return DG_OK;
}

dg_value dg_document_value(const dg_document *doc, dg_doc_field field) {
  switch (field) {
  case DG_FIELD_SEED: return (dg_value){.u = doc->seed};
  case DG_FIELD_SEED_RANDOM: return (dg_value){.u = doc->seed_random};
  case DG_FIELD_LIVE: return (dg_value){.u = doc->live};
  case DG_FIELD_STEPS: return (dg_value){.u = (uint64_t)doc->steps};
  case DG_FIELD_GUIDANCE: return (dg_value){.d = doc->guidance};
  case DG_FIELD_CONTROL_SCALE: return (dg_value){.d = doc->control_scale};
  default: return (dg_value){.u = 0};
  }
}

void dg_document_store_value(dg_document *doc, dg_doc_field field, dg_value v) {
  switch (field) {
  case DG_FIELD_SEED: doc->seed = v.u; break;
  case DG_FIELD_SEED_RANDOM: doc->seed_random = v.u != 0; break;
  case DG_FIELD_LIVE: doc->live = v.u != 0; break;
  case DG_FIELD_STEPS: doc->steps = (int)v.u; break;
  case DG_FIELD_GUIDANCE: doc->guidance = v.d; break;
  case DG_FIELD_CONTROL_SCALE: doc->control_scale = v.d; break;
  default: return;
  }
  notify(doc, DG_CHANGED_FIELD(field), 0, 0, 0, 0);
}

// ---- pixel edits ---------------------------------------------------------------------------------

void dg_document_edit_begin(dg_document *doc) {
  if (doc->edit_depth++ > 0) return;
  size_t n = (size_t)doc->width * doc->height;
  doc->edit_before = malloc(n);
  memcpy(doc->edit_before, doc->layout, n);
  doc->touch_x0 = doc->width;
  doc->touch_y0 = doc->height;
  doc->touch_x1 = doc->touch_y1 = 0;
}

bool dg_document_editing(const dg_document *doc) { return doc->edit_depth > 0; }

void dg_document_edit_end(dg_document *doc) {
  if (doc->edit_depth == 0 || --doc->edit_depth > 0) return;
  // Shrink the touched box to the pixels that really changed.
  int x0 = doc->width, y0 = doc->height, x1 = -1, y1 = -1;
  for (int y = doc->touch_y0; y < doc->touch_y1; y++) {
    const uint8_t *a = doc->edit_before + (size_t)y * doc->width, *b = doc->layout + (size_t)y * doc->width;
    for (int x = doc->touch_x0; x < doc->touch_x1; x++) {
      if (a[x] == b[x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  if (x1 >= 0) {
    int w = x1 - x0 + 1, h = y1 - y0 + 1;
    uint8_t *before = malloc((size_t)w * h), *after = malloc((size_t)w * h);
    for (int r = 0; r < h; r++) {
      size_t off = (size_t)(y0 + r) * doc->width + x0;
      memcpy(before + (size_t)r * w, doc->edit_before + off, (size_t)w);
      memcpy(after + (size_t)r * w, doc->layout + off, (size_t)w);
    }
    dg_document_push(doc, dg_pixels_command_new(x0, y0, w, h, before, after));
  }
  free(doc->edit_before);
  doc->edit_before = NULL;
}

static int clamp_class(int cls) { return cls == DG_UNLABELLED || (cls >= 0 && cls < 255) ? cls : -1; }

// Notifies listeners of the box [x0, x1) x [y0, y1) and grows the edit's touched box.
static void touched(dg_document *doc, int x0, int y0, int x1, int y1) {
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 > doc->width) x1 = doc->width;
  if (y1 > doc->height) y1 = doc->height;
  if (x0 >= x1 || y0 >= y1) return;
  if (x0 < doc->touch_x0) doc->touch_x0 = x0;
  if (y0 < doc->touch_y0) doc->touch_y0 = y0;
  if (x1 > doc->touch_x1) doc->touch_x1 = x1;
  if (y1 > doc->touch_y1) doc->touch_y1 = y1;
  notify(doc, DG_CHANGED_LAYOUT, x0, y0, x1 - x0, y1 - y0);
}

static void dab(dg_document *doc, double cx, double cy, double radius, uint8_t cls) {
  // Pixel (x, y) is painted when its centre lies within radius of (cx, cy); radius < 0.5 paints
  // at least the pixel under the centre.
  int x0 = (int)floor(cx - radius), x1 = (int)ceil(cx + radius), y0 = (int)floor(cy - radius),
      y1 = (int)ceil(cy + radius);
  double r2 = radius * radius;
  for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < doc->height; y++)
    for (int x = x0 < 0 ? 0 : x0; x <= x1 && x < doc->width; x++) {
      double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      if (dx * dx + dy * dy <= r2) doc->layout[(size_t)y * doc->width + x] = cls;
    }
  int px = (int)floor(cx), py = (int)floor(cy);
  if (px >= 0 && py >= 0 && px < doc->width && py < doc->height) doc->layout[(size_t)py * doc->width + px] = cls;
}

void dg_document_paint_dab(dg_document *doc, double cx, double cy, double radius, int cls) {
  dg_document_paint_line(doc, cx, cy, cx, cy, radius, cls);
}

void dg_document_paint_line(dg_document *doc, double x0, double y0, double x1, double y1, double radius, int cls) {
  cls = clamp_class(cls);
  if (cls < 0 || !isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1) || !isfinite(radius)) return;
  if (radius < 0) radius = 0;
  if (radius > DG_DOC_MAX_SIDE) radius = DG_DOC_MAX_SIDE;
  // Far outside the canvas there is nothing to paint; clamp to keep the dab count bounded.
  double lim = 2.0 * DG_DOC_MAX_SIDE;
  x0 = fmax(-lim, fmin(lim, x0)), x1 = fmax(-lim, fmin(lim, x1));
  y0 = fmax(-lim, fmin(lim, y0)), y1 = fmax(-lim, fmin(lim, y1));
  bool own = doc->edit_depth == 0;
  if (own) dg_document_edit_begin(doc);
  double len = hypot(x1 - x0, y1 - y0), spacing = fmax(0.25, radius * 0.25);
  int n = (int)ceil(len / spacing);
  for (int i = 0; i <= n; i++) {
    double t = n ? (double)i / n : 0;
    dab(doc, x0 + t * (x1 - x0), y0 + t * (y1 - y0), radius, (uint8_t)cls);
  }
  touched(doc, (int)floor(fmin(x0, x1) - radius) - 1, (int)floor(fmin(y0, y1) - radius) - 1,
          (int)ceil(fmax(x0, x1) + radius) + 2, (int)ceil(fmax(y0, y1) + radius) + 2);
  if (own) dg_document_edit_end(doc);
}

void dg_document_paint_stroke(dg_document *doc, const int *xy, int n, double radius, int cls) {
  dg_document_edit_begin(doc);
  for (int i = 0; i < n; i++) {
    double cx = xy[2 * i] + 0.5, cy = xy[2 * i + 1] + 0.5, px = i ? xy[2 * i - 2] + 0.5 : cx,
           py = i ? xy[2 * i - 1] + 0.5 : cy;
    dg_document_paint_line(doc, px, py, cx, cy, radius, cls);
  }
  dg_document_edit_end(doc);
}

void dg_document_flood_fill(dg_document *doc, int x, int y, int cls) {
  cls = clamp_class(cls);
  int target = dg_document_pixel(doc, x, y);
  if (cls < 0 || target < 0 || target == cls) return;
  bool own = doc->edit_depth == 0;
  if (own) dg_document_edit_begin(doc);
  int w = doc->width, h = doc->height;
  int bx0 = x, by0 = y, bx1 = x, by1 = y;
  // Scanline fill with an explicit stack of seed pixels (each pixel is pushed at most once per
  // neighbouring span, so the stack stays within 2*w*h).
  size_t cap = 1024, top = 0;
  int *stack = malloc(cap * 2 * sizeof(int));
  stack[top * 2] = x, stack[top * 2 + 1] = y, top++;
  while (top) {
    top--;
    int sx = stack[top * 2], sy = stack[top * 2 + 1];
    uint8_t *row = doc->layout + (size_t)sy * w;
    if (row[sx] != target) continue;
    int l = sx, r = sx;
    while (l > 0 && row[l - 1] == target)
      l--;
    while (r < w - 1 && row[r + 1] == target)
      r++;
    memset(row + l, cls, (size_t)(r - l + 1));
    if (l < bx0) bx0 = l;
    if (r > bx1) bx1 = r;
    if (sy < by0) by0 = sy;
    if (sy > by1) by1 = sy;
    for (int dy = -1; dy <= 1; dy += 2) {
      int ny = sy + dy;
      if (ny < 0 || ny >= h) continue;
      const uint8_t *nrow = doc->layout + (size_t)ny * w;
      for (int i = l; i <= r; i++) {
        if (nrow[i] != target || (i > l && nrow[i - 1] == target)) continue;
        if (top == cap) {
          cap *= 2;
          stack = realloc(stack, cap * 2 * sizeof(int));
        }
        stack[top * 2] = i, stack[top * 2 + 1] = ny, top++;
      }
    }
  }
  free(stack);
  touched(doc, bx0, by0, bx1 + 1, by1 + 1);
  if (own) dg_document_edit_end(doc);
}

void dg_document_fill_rect(dg_document *doc, int x0, int y0, int x1, int y1, int cls) {
  cls = clamp_class(cls);
  if (cls < 0) return;
  if (x0 > x1) {
    int t = x0;
    x0 = x1;
    x1 = t;
  }
  if (y0 > y1) {
    int t = y0;
    y0 = y1;
    y1 = t;
  }
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 >= doc->width) x1 = doc->width - 1;
  if (y1 >= doc->height) y1 = doc->height - 1;
  if (x0 > x1 || y0 > y1) return;
  bool own = doc->edit_depth == 0;
  if (own) dg_document_edit_begin(doc);
  for (int y = y0; y <= y1; y++)
    memset(doc->layout + (size_t)y * doc->width + x0, cls, (size_t)(x1 - x0 + 1));
  touched(doc, x0, y0, x1 + 1, y1 + 1);
  if (own) dg_document_edit_end(doc);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

void dg_document_fill_polygon(dg_document *doc, const double *xy, int n, int cls) {
  cls = clamp_class(cls);
  if (cls < 0 || n < 3 || n > 65536) return;
  double minx = INFINITY, maxx = -INFINITY, miny = INFINITY, maxy = -INFINITY;
  for (int i = 0; i < n; i++) {
    if (!isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1])) return;
    minx = fmin(minx, xy[2 * i]), maxx = fmax(maxx, xy[2 * i]);
    miny = fmin(miny, xy[2 * i + 1]), maxy = fmax(maxy, xy[2 * i + 1]);
  }
  int ya = (int)fmax(0, floor(miny)), yb = (int)fmin(doc->height - 1, ceil(maxy));
  if (ya > yb || maxx < 0 || minx >= doc->width) return;
  bool own = doc->edit_depth == 0;
  if (own) dg_document_edit_begin(doc);
  double *xs = malloc((size_t)n * sizeof(double));
  for (int y = ya; y <= yb; y++) {
    double cy = y + 0.5;
    int k = 0;
    for (int i = 0; i < n; i++) {
      double ax = xy[2 * i], ay = xy[2 * i + 1], bx = xy[2 * ((i + 1) % n)], by = xy[2 * ((i + 1) % n) + 1];
      if ((ay <= cy) == (by <= cy)) continue; // half-open rule: vertices are counted once
      xs[k++] = ax + (cy - ay) * (bx - ax) / (by - ay);
    }
    qsort(xs, (size_t)k, sizeof(double), cmp_double);
    for (int i = 0; i + 1 < k; i += 2) {
      // pixel centres x + 0.5 in [xs[i], xs[i+1])
      int from = (int)ceil(xs[i] - 0.5), to = (int)ceil(xs[i + 1] - 0.5) - 1;
      if (from < 0) from = 0;
      if (to >= doc->width) to = doc->width - 1;
      if (from <= to) memset(doc->layout + (size_t)y * doc->width + from, cls, (size_t)(to - from + 1));
    }
  }
  free(xs);
  touched(doc, (int)floor(minx), ya, (int)ceil(maxx) + 1, yb + 1);
  if (own) dg_document_edit_end(doc);
}

dg_status dg_document_set_layout(dg_document *doc, const uint8_t *ids, int height, int width) {
  if (width != doc->width || height != doc->height)
    return dg_fail(DG_ERR_ARG, "document: layout is %dx%d, the document %dx%d (height x width)", height, width,
                   doc->height, doc->width);
  bool own = doc->edit_depth == 0;
  if (own) dg_document_edit_begin(doc);
  memcpy(doc->layout, ids, (size_t)width * height);
  touched(doc, 0, 0, width, height);
  if (own) dg_document_edit_end(doc);
  return DG_OK;
}

dg_status dg_document_set_palette_layout(dg_document *doc, const char *palette, const uint8_t *ids) {
  if (!palette || !*palette || strlen(palette) > 65536 || !g_utf8_validate(palette, -1, NULL))
    return dg_fail(DG_ERR_ARG, "document: a palette needs a non-empty UTF-8 name");
  size_t n = (size_t)doc->width * doc->height;
  uint8_t *before = malloc(n), *after = malloc(n);
  if (!before || !after) {
    free(before), free(after);
    return dg_memory_fail("the palette change's undo step", 2 * (uint64_t)n);
  }
  memcpy(before, doc->layout, n);
  memcpy(after, ids, n);
  dg_document_execute(doc, dg_palette_command_new(doc->width, doc->height, before, after, doc->palette, palette));
  return DG_OK;
}

// ---- parameters ----------------------------------------------------------------------------------

const char *dg_document_prompt(const dg_document *doc) { return doc->prompt; }
const char *dg_document_negative(const dg_document *doc) { return doc->negative; }
const char *dg_document_model(const dg_document *doc) { return doc->model; }
const char *dg_document_palette(const dg_document *doc) { return doc->palette; }
const char *dg_document_marks(const dg_document *doc) { return doc->marks; }
const char *dg_document_attn_guidance(const dg_document *doc) { return doc->attn_guidance; }
uint64_t dg_document_seed(const dg_document *doc) { return doc->seed; }
bool dg_document_seed_random(const dg_document *doc) { return doc->seed_random; }
bool dg_document_live(const dg_document *doc) { return doc->live; }

void dg_document_set_live(dg_document *doc, bool live) {
  if (doc->live != live) dg_document_store_value(doc, DG_FIELD_LIVE, (dg_value){.u = live});
}
int dg_document_steps(const dg_document *doc) { return doc->steps; }
double dg_document_guidance(const dg_document *doc) { return doc->guidance; }
double dg_document_control_scale(const dg_document *doc) { return doc->control_scale; }

dg_status dg_document_set_text(dg_document *doc, dg_doc_field field, const char *text, bool coalesce) {
  char **slot = text_slot(doc, field);
  if (!slot) return dg_fail(DG_ERR_ARG, "document: field %d is not a text field", (int)field);
  if (!text) text = "";
  if (strlen(text) > 65536) return dg_fail(DG_ERR_ARG, "document: text of %zu bytes (limit 65536)", strlen(text));
  if (!g_utf8_validate(text, -1, NULL)) return dg_fail(DG_ERR_ARG, "document: text is not valid UTF-8");
  if (field == DG_FIELD_MODEL && !*text) return dg_fail(DG_ERR_ARG, "document: empty model name");
  if (field == DG_FIELD_PALETTE && !*text) return dg_fail(DG_ERR_ARG, "document: empty palette name");
  if (field == DG_FIELD_ATTN_GUIDANCE) { // stored by its canonical name
    dg_guidance_kind kind;
    DG_TRY(dg_guidance_parse(text, &kind));
    text = dg_guidance_name(kind);
  }
  if (!strcmp(*slot, text)) return DG_OK;
  dg_document_execute(doc, dg_text_command_new(field, *slot, text, coalesce));
  return DG_OK;
}

static dg_status set_value(dg_document *doc, dg_doc_field field, dg_value v) {
  dg_value old = dg_document_value(doc, field);
  bool real = field == DG_FIELD_GUIDANCE || field == DG_FIELD_CONTROL_SCALE; // the fields held in dg_value.d
  if (real ? old.d == v.d : old.u == v.u) return DG_OK;
  dg_document_execute(doc, dg_value_command_new(field, old, v));
  return DG_OK;
}

dg_status dg_document_set_seed(dg_document *doc, uint64_t seed) {
  return set_value(doc, DG_FIELD_SEED, (dg_value){.u = seed});
}
dg_status dg_document_set_seed_random(dg_document *doc, bool random) {
  return set_value(doc, DG_FIELD_SEED_RANDOM, (dg_value){.u = random});
}
dg_status dg_document_set_steps(dg_document *doc, int steps) {
  DG_TRY(dg_settings_check_steps("steps", steps));
  return set_value(doc, DG_FIELD_STEPS, (dg_value){.u = (uint64_t)steps});
}
dg_status dg_document_set_guidance(dg_document *doc, double guidance) {
  DG_TRY(dg_settings_check_guidance("guidance", guidance));
  return set_value(doc, DG_FIELD_GUIDANCE, (dg_value){.d = guidance});
}
dg_status dg_document_set_control_scale(dg_document *doc, double scale) {
  DG_TRY(dg_settings_check_control_scale("layout strength", scale));
  return set_value(doc, DG_FIELD_CONTROL_SCALE, (dg_value){.d = scale});
}

// ---- the video -----------------------------------------------------------------------------------

const dg_video_result *dg_document_video(const dg_document *doc) {
  return dg_document_video_at(doc, doc->current_video);
}
int dg_document_video_count(const dg_document *doc) { return doc->video_count; }
const dg_video_result *dg_document_video_at(const dg_document *doc, int index) {
  return index >= 0 && index < doc->video_count ? doc->videos[index] : NULL;
}
int dg_document_current_video(const dg_document *doc) { return doc->current_video; }

void dg_document_set_current_video(dg_document *doc, int index) {
  if (index < -1 || index >= doc->video_count || index == doc->current_video) return;
  doc->current_video = index;
  notify(doc, DG_CHANGED_VIDEO, 0, 0, 0, 0);
}

void dg_document_store_insert_video(dg_document *doc, int index, dg_video_result *v, int current) {
  dg_video_result **grown = realloc(doc->videos, (size_t)(doc->video_count + 1) * sizeof *grown);
  if (!grown) { // the document stays as it was
    dg_memory_fail("the document's videos", (uint64_t)(doc->video_count + 1) * sizeof *grown);
    dg_video_result_clear(v);
    free(v);
    return;
  }
  doc->videos = grown;
  if (!(v->control_scale > 0)) v->control_scale = 1; // made without a layout strength: as trained
  memmove(&doc->videos[index + 1], &doc->videos[index], (size_t)(doc->video_count - index) * sizeof *grown);
  doc->videos[index] = v;
  doc->video_count++;
  doc->current_video = current >= -1 && current < doc->video_count ? current : index;
  notify(doc, DG_CHANGED_VIDEO, 0, 0, 0, 0);
}

dg_video_result *dg_document_store_take_video(dg_document *doc, int index) {
  if (index < 0 || index >= doc->video_count) return NULL;
  dg_video_result *v = doc->videos[index];
  memmove(&doc->videos[index], &doc->videos[index + 1], (size_t)(doc->video_count - index - 1) * sizeof *doc->videos);
  doc->video_count--;
  // The player shows the same video when another goes, else the one that took its place (or the last).
  int c = doc->current_video;
  doc->current_video = c > index ? c - 1 : c < index ? c : index < doc->video_count ? index : doc->video_count - 1;
  notify(doc, DG_CHANGED_VIDEO, 0, 0, 0, 0);
  return v;
}

void dg_document_add_video(dg_document *doc, dg_video_result *v) {
  dg_video_result *kept = malloc(sizeof *kept);
  if (!kept) { // the document stays without it
    dg_memory_fail("the document's video", sizeof *kept);
    dg_video_result_clear(v);
    return;
  }
  *kept = *v;
  dg_video_result_init(v);
  dg_document_store_insert_video(doc, doc->video_count, kept, doc->video_count);
}

dg_status dg_document_delete_video(dg_document *doc, int index) {
  if (index < 0 || index >= doc->video_count)
    return dg_fail(DG_ERR_ARG, "no video %d to delete (the document has %d)", index + 1, doc->video_count);
  int current = doc->current_video;
  dg_video_result *v = dg_document_store_take_video(doc, index);
  dg_command *cmd = dg_video_delete_command_new(index, v, current);
  if (!cmd) { // no undo step: the video stays
    dg_document_store_insert_video(doc, index, v, current);
    return DG_ERR_OOM; // dg_memory_fail said so
  }
  dg_document_push(doc, cmd);
  return DG_OK;
}

// ---- results -------------------------------------------------------------------------------------

int dg_document_result_count(const dg_document *doc) { return doc->result_count; }
const dg_result *dg_document_result(const dg_document *doc, int index) {
  return index >= 0 && index < doc->result_count ? &doc->results[index] : NULL;
}
int dg_document_result_find(const dg_document *doc, uint64_t id) {
  for (int i = 0; id && i < doc->result_count; i++)
    if (doc->results[i].id == id) return i;
  return -1;
}
// A result made without a layout strength (0: not set, as a result built before it existed) was made as trained.
static void result_settled(dg_result *r) {
  if (!(r->control_scale > 0)) r->control_scale = 1;
}

void dg_document_add_result(dg_document *doc, dg_result *r) {
  doc->results = realloc(doc->results, (size_t)(doc->result_count + 1) * sizeof(dg_result));
  doc->results[doc->result_count] = *r;
  result_settled(&doc->results[doc->result_count]);
  doc->results[doc->result_count].id = ++doc->last_result_id;
  memset(r, 0, sizeof *r);
  doc->current_result = doc->result_count++;
  notify(doc, DG_CHANGED_RESULTS, 0, 0, 0, 0);
}
// Results rewritten from `index` on (listeners rebuild them).
static void results_rewritten(dg_document *doc, int index) { notify(doc, DG_CHANGED_RESULTS, index, 0, 1, 0); }

dg_status dg_document_store_insert_result(dg_document *doc, int index, const dg_result *r) {
  if (index < 0 || index > doc->result_count)
    return dg_fail(DG_ERR_ARG, "results: no place %d (%d results)", index, doc->result_count);
  dg_result copy;
  DG_TRY(dg_result_copy(&copy, r));
  dg_result *grown = realloc(doc->results, (size_t)(doc->result_count + 1) * sizeof(dg_result));
  if (!grown) {
    dg_result_clear(&copy);
    return dg_memory_fail("the results list", (uint64_t)(doc->result_count + 1) * sizeof(dg_result));
  }
  doc->results = grown;
  memmove(&doc->results[index + 1], &doc->results[index], (size_t)(doc->result_count - index) * sizeof(dg_result));
  doc->results[index] = copy;
  result_settled(&doc->results[index]);
  doc->results[index].id = ++doc->last_result_id;
  doc->result_count++;
  doc->current_result = index;
  results_rewritten(doc, index);
  return DG_OK;
}

dg_status dg_document_store_replace_result(dg_document *doc, int index, const dg_result *r) {
  if (index < 0 || index >= doc->result_count)
    return dg_fail(DG_ERR_ARG, "results: no result %d (%d results)", index, doc->result_count);
  dg_result copy;
  DG_TRY(dg_result_copy(&copy, r));
  dg_result_clear(&doc->results[index]);
  doc->results[index] = copy;
  result_settled(&doc->results[index]);
  doc->results[index].id = ++doc->last_result_id; // another result now: a run that read the old one skips it
  doc->current_result = index;
  results_rewritten(doc, index);
  return DG_OK;
}

dg_status dg_document_store_remove_result(dg_document *doc, int index) {
  if (index < 0 || index >= doc->result_count)
    return dg_fail(DG_ERR_ARG, "results: no result %d (%d results)", index, doc->result_count);
  dg_result_clear(&doc->results[index]);
  memmove(&doc->results[index], &doc->results[index + 1], (size_t)(doc->result_count - index - 1) * sizeof(dg_result));
  doc->result_count--;
  if (doc->current_result > index)
    doc->current_result--;
  else if (doc->current_result == index)
    doc->current_result = index > 0 ? index - 1 : (doc->result_count ? 0 : -1);
  results_rewritten(doc, index);
  return DG_OK;
}

int dg_document_current_result(const dg_document *doc) { return doc->current_result; }
void dg_document_set_current_result(dg_document *doc, int index) {
  if (index < -1 || index >= doc->result_count || index == doc->current_result) return;
  doc->current_result = index;
  notify(doc, DG_CHANGED_RESULTS, 0, 0, 0, 0);
}
