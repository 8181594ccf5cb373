// The document's command types: pixels (a changed rectangle of the layout), text (prompt, negative
// prompt, model choice, palette) and value (seed, random seed, steps, guidance), and a palette switch
// (the whole layout converted and the palette name, one step).
#include <stdlib.h>
#include <string.h>

#include "dg_command.h"

// Frees a command whose own state is two buffers (before and after).
static void free_with_pair(dg_command *cmd, void *before, void *after) {
  free(before);
  free(after);
  free(cmd);
}

// ---- pixels --------------------------------------------------------------------------------------

typedef struct pixels_command {
  dg_command base;
  int x, y, w, h;
  uint8_t *before, *after; // w*h ids each
} pixels_command;

static void pixels_apply(dg_command *cmd, dg_document *doc, bool redo) {
  pixels_command *c = (pixels_command *)cmd;
  dg_document_store_pixels(doc, c->x, c->y, c->w, c->h, redo ? c->after : c->before);
}
static size_t pixels_size(const dg_command *cmd) {
  const pixels_command *c = (const pixels_command *)cmd;
  return 2 * (size_t)c->w * c->h;
}
static void pixels_free(dg_command *cmd) {
  pixels_command *c = (pixels_command *)cmd;
  free_with_pair(cmd, c->before, c->after);
}
static const dg_command_type pixels_type = {"pixels", pixels_apply, NULL, pixels_size, pixels_free};

dg_command *dg_pixels_command_new(int x, int y, int w, int h, uint8_t *before, uint8_t *after) {
  pixels_command *c = calloc(1, sizeof *c);
  *c = (pixels_command){{&pixels_type, false}, x, y, w, h, before, after};
  return &c->base;
}

// ---- text ----------------------------------------------------------------------------------------

typedef struct text_command {
  dg_command base;
  dg_doc_field field;
  char *old_text, *new_text;
} text_command;

static void text_apply(dg_command *cmd, dg_document *doc, bool redo) {
  text_command *c = (text_command *)cmd;
  dg_document_store_text(doc, c->field, redo ? c->new_text : c->old_text);
}
// Typing: the next keystroke's text replaces this command's new text.
static bool text_merge(dg_command *cmd, const dg_command *next) {
  text_command *c = (text_command *)cmd;
  const text_command *n = (const text_command *)next;
  if (n->field != c->field) return false;
  free(c->new_text);
  c->new_text = strdup(n->new_text);
  return true;
}
static size_t text_size(const dg_command *cmd) {
  const text_command *c = (const text_command *)cmd;
  return strlen(c->old_text) + strlen(c->new_text) + 2;
}
static void text_free(dg_command *cmd) {
  text_command *c = (text_command *)cmd;
  free_with_pair(cmd, c->old_text, c->new_text);
}
static const dg_command_type text_type = {"text", text_apply, text_merge, text_size, text_free};

dg_command *dg_text_command_new(dg_doc_field field, const char *old_text, const char *new_text, bool coalescing) {
  text_command *c = calloc(1, sizeof *c);
  *c = (text_command){
      {&text_type, coalescing}, field, strdup(old_text ? old_text : ""), strdup(new_text ? new_text : "")};
  return &c->base;
}

// ---- value ---------------------------------------------------------------------------------------

typedef struct value_command {
  dg_command base;
  dg_doc_field field;
  dg_value old_value, new_value;
} value_command;

static void value_apply(dg_command *cmd, dg_document *doc, bool redo) {
  value_command *c = (value_command *)cmd;
  dg_document_store_value(doc, c->field, redo ? c->new_value : c->old_value);
}
static size_t value_size(const dg_command *cmd) {
  (void)cmd;
  return 0;
}
static void value_free(dg_command *cmd) { free(cmd); }
static const dg_command_type value_type = {"value", value_apply, NULL, value_size, value_free};

dg_command *dg_value_command_new(dg_doc_field field, dg_value old_value, dg_value new_value) {
  value_command *c = calloc(1, sizeof *c);
  *c = (value_command){{&value_type, false}, field, old_value, new_value};
  return &c->base;
}

// ---- palette -------------------------------------------------------------------------------------

typedef struct palette_command {
  pixels_command pixels; // the whole layout
  char *old_palette, *new_palette;
} palette_command;

static void palette_apply(dg_command *cmd, dg_document *doc, bool redo) {
  palette_command *c = (palette_command *)cmd;
  pixels_apply(cmd, doc, redo);
  dg_document_store_text(doc, DG_FIELD_PALETTE, redo ? c->new_palette : c->old_palette);
}
static size_t palette_size(const dg_command *cmd) {
  const palette_command *c = (const palette_command *)cmd;
  return pixels_size(cmd) + strlen(c->old_palette) + strlen(c->new_palette) + 2;
}
static void palette_free(dg_command *cmd) {
  palette_command *c = (palette_command *)cmd;
  free(c->old_palette);
  free(c->new_palette);
  free_with_pair(cmd, c->pixels.before, c->pixels.after);
}
static const dg_command_type palette_type = {"palette", palette_apply, NULL, palette_size, palette_free};

dg_command *dg_palette_command_new(int w, int h, uint8_t *before, uint8_t *after, const char *old_palette,
                                   const char *new_palette) {
  palette_command *c = calloc(1, sizeof *c);
  *c = (palette_command){{{&palette_type, false}, 0, 0, w, h, before, after}, strdup(old_palette),
                         strdup(new_palette)};
  return &c->pixels.base;
}
