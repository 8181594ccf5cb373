// The timeline's undo command: the whole timeline before and after the change.
#include <stdlib.h>
#include <string.h>

#include "dg_command.h"
#include "dg_memory.h"

typedef struct timeline_command {
  dg_command base;
  dg_timeline before, after;
} timeline_command;

static void timeline_apply(dg_command *cmd, dg_document *doc, bool redo) {
  timeline_command *c = (timeline_command *)cmd;
  // Only memory can fail here (the copy of a few prompts); the document then keeps its timeline.
  (void)dg_document_store_timeline(doc, redo ? &c->after : &c->before);
}
// Typing into a stage's prompt or dragging a stage: the next change's result replaces this one's.
static bool timeline_merge(dg_command *cmd, const dg_command *next) {
  timeline_command *c = (timeline_command *)cmd;
  return dg_timeline_copy(&c->after, &((const timeline_command *)next)->after) == DG_OK;
}
static size_t timeline_size(const dg_command *cmd) {
  const timeline_command *c = (const timeline_command *)cmd;
  size_t n = sizeof *c;
  for (int i = 0; i < c->before.n_stages; i++) n += strlen(c->before.stages[i].prompt) + 1;
  for (int i = 0; i < c->after.n_stages; i++) n += strlen(c->after.stages[i].prompt) + 1;
  return n;
}
static void timeline_free(dg_command *cmd) {
  timeline_command *c = (timeline_command *)cmd;
  dg_timeline_clear(&c->before);
  dg_timeline_clear(&c->after);
  free(c);
}
static const dg_command_type timeline_type = {"timeline", timeline_apply, timeline_merge, timeline_size,
                                              timeline_free};

dg_command *dg_timeline_command_new(const dg_timeline *before, const dg_timeline *after, bool coalescing) {
  timeline_command *c = calloc(1, sizeof *c);
  if (!c) {
    dg_memory_fail("a timeline undo step", sizeof *c);
    return NULL;
  }
  c->base = (dg_command){&timeline_type, coalescing};
  dg_timeline_init(&c->before);
  dg_timeline_init(&c->after);
  if (dg_timeline_copy(&c->before, before) != DG_OK || dg_timeline_copy(&c->after, after) != DG_OK) {
    timeline_free(&c->base);
    return NULL;
  }
  return &c->base;
}
