// The style panel's undo commands: a style change (the whole state before and after, image references only)
// and a batch of results inserted or replaced by stylizing (each result before and after).
#include <stdlib.h>

#include "dg_command.h"
#include "dg_memory.h"

typedef struct style_command {
  dg_command base;
  dg_style before, after;
} style_command;

static void style_apply(dg_command *cmd, dg_document *doc, bool redo) {
  style_command *c = (style_command *)cmd;
  dg_document_store_style(doc, redo ? &c->after : &c->before);
}
// Dragging the strength slider: the next change's state replaces this one's.
static bool style_merge(dg_command *cmd, const dg_command *next) {
  dg_style_copy(&((style_command *)cmd)->after, &((const style_command *)next)->after);
  return true;
}
static size_t style_size(const dg_command *cmd) {
  (void)cmd;
  return sizeof(style_command); // the images are shared with the document and other steps
}
static void style_free(dg_command *cmd) {
  style_command *c = (style_command *)cmd;
  dg_style_clear(&c->before);
  dg_style_clear(&c->after);
  free(c);
}
static const dg_command_type style_type = {"style", style_apply, style_merge, style_size, style_free};

dg_command *dg_style_command_new(const dg_style *before, const dg_style *after, bool coalescing) {
  style_command *c = calloc(1, sizeof *c);
  if (!c) {
    dg_memory_fail("a style undo step", sizeof *c);
    return NULL;
  }
  c->base = (dg_command){&style_type, coalescing};
  dg_style_init(&c->before), dg_style_init(&c->after);
  dg_style_copy(&c->before, before);
  dg_style_copy(&c->after, after);
  return &c->base;
}

typedef struct results_entry {
  int index;
  bool inserted; // before is empty: redo inserts `after` at index, undo removes it
  dg_result before, after;
} results_entry;

typedef struct results_command {
  dg_command base;
  int n;
  results_entry *entries;
} results_command;

// Only memory can fail here (a copy of a result); the document then keeps that result as it was.
static void results_apply(dg_command *cmd, dg_document *doc, bool redo) {
  results_command *c = (results_command *)cmd;
  for (int k = 0; k < c->n; k++) {
    results_entry *e = &c->entries[redo ? k : c->n - 1 - k];
    if (e->inserted)
      (void)(redo ? dg_document_store_insert_result(doc, e->index, &e->after)
                  : dg_document_store_remove_result(doc, e->index));
    else
      (void)dg_document_store_replace_result(doc, e->index, redo ? &e->after : &e->before);
  }
}
static size_t results_size(const dg_command *cmd) {
  const results_command *c = (const results_command *)cmd;
  size_t n = sizeof *c;
  for (int k = 0; k < c->n; k++)
    n += sizeof(results_entry) + 4 * ((size_t)c->entries[k].before.width * c->entries[k].before.height +
                                      (size_t)c->entries[k].after.width * c->entries[k].after.height);
  return n;
}
static void results_free(dg_command *cmd) {
  results_command *c = (results_command *)cmd;
  for (int k = 0; k < c->n; k++) {
    dg_result_clear(&c->entries[k].before);
    dg_result_clear(&c->entries[k].after);
  }
  free(c->entries);
  free(c);
}
static const dg_command_type results_type = {"results", results_apply, NULL, results_size, results_free};

dg_command *dg_results_command_new(int n, const int *index, dg_result *const *before, dg_result *const *after) {
  results_command *c = calloc(1, sizeof *c);
  results_entry *e = c ? calloc((size_t)n, sizeof *e) : NULL;
  if (!e) {
    free(c);
    dg_memory_fail("a results undo step", sizeof *c + (size_t)n * sizeof *e);
    return NULL;
  }
  c->base = (dg_command){&results_type, false};
  c->n = n, c->entries = e;
  for (int k = 0; k < n; k++) {
    e[k].index = index[k];
    e[k].inserted = !before[k];
    if (before[k]) e[k].before = *before[k];
    e[k].after = *after[k];
  }
  return &c->base;
}
