// Undo commands. Every edit of a document is a command object with a do (redo) and an undo; the
// document keeps them on its undo stack. A new kind of edit (a timeline stage, an exemplar) is one
// more dg_command_type in a file of its own, which changes the document through the store functions
// below (they change it without recording history and tell its listener what changed).
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dg_document.h"

typedef struct dg_command dg_command;

typedef struct dg_command_type {
  const char *name;
  // Does the edit (redo) or takes it back (!redo).
  void (*apply)(dg_command *cmd, dg_document *doc, bool redo);
  // Optional: takes `next`, an edit of the same type that directly follows, into cmd (typing into a
  // field); true if it did, and then `next` is dropped.
  bool (*merge)(dg_command *cmd, const dg_command *next);
  size_t (*size)(const dg_command *cmd); // bytes held, for dg_document_history_bytes
  void (*free)(dg_command *cmd);
} dg_command_type;

// The head of every command; a type's own struct starts with it.
struct dg_command {
  const dg_command_type *type;
  bool coalescing; // a later coalescing command may merge into this one, until dg_document_seal_history
};

// Does cmd and puts it on the undo stack; the document takes it. When cmd and the command on top of
// the stack are both coalescing (and nothing was undone), the top one may merge cmd instead.
void dg_document_execute(dg_document *doc, dg_command *cmd);
// Puts a command whose edit is already done on the undo stack (pixel edits, recorded at edit_end).
void dg_document_push(dg_document *doc, dg_command *cmd);

// Stores for commands: no history; each tells the listener what changed.
typedef union dg_value {
  uint64_t u; // seed, seed_random (0/1), steps
  double d;   // guidance
} dg_value;
// Writes a w x h rectangle of class ids at (x, y) (rows packed).
void dg_document_store_pixels(dg_document *doc, int x, int y, int w, int h, const uint8_t *ids);
void dg_document_store_text(dg_document *doc, dg_doc_field field, const char *text);
void dg_document_store_value(dg_document *doc, dg_doc_field field, dg_value value);
dg_value dg_document_value(const dg_document *doc, dg_doc_field field);

// Replaces the timeline (deep copy) and tells the listener.
dg_status dg_document_store_timeline(dg_document *doc, const dg_timeline *t);

// Replaces the style state (references taken) and tells the listener.
void dg_document_store_style(dg_document *doc, const dg_style *style);
// Results by index, for the results command: insert a copy of r at index (0..count), replace the one at index
// with a copy of r, or remove the one at index. DG_ERR_ARG for an index out of range, DG_ERR_OOM; the current
// result becomes the one inserted or replaced (removal: the one before it, or none).
dg_status dg_document_store_insert_result(dg_document *doc, int index, const dg_result *r);
dg_status dg_document_store_replace_result(dg_document *doc, int index, const dg_result *r);
dg_status dg_document_store_remove_result(dg_document *doc, int index);

// The document's own command types (dg_commands.c). Pixel commands take the two buffers (malloc'd).
dg_command *dg_pixels_command_new(int x, int y, int w, int h, uint8_t *before, uint8_t *after);
dg_command *dg_text_command_new(dg_doc_field field, const char *old_text, const char *new_text, bool coalescing);
dg_command *dg_value_command_new(dg_doc_field field, dg_value old_value, dg_value new_value);
// A palette switch: the whole layout (w x h, the two buffers taken) and the palette name together.
dg_command *dg_palette_command_new(int w, int h, uint8_t *before, uint8_t *after, const char *old_palette,
                                   const char *new_palette);
// A timeline change (dg_timeline_command.c): the whole timeline before and after (deep copies; timelines
// are small). NULL when memory runs out (the error set).
dg_command *dg_timeline_command_new(const dg_timeline *before, const dg_timeline *after, bool coalescing);

// The videos (dg_document.c): insert takes v (malloc'd) at `index` and makes `current` the current video (out
// of range: the inserted one); take removes the one at `index` and hands it over (NULL: none there).
void dg_document_store_insert_video(dg_document *doc, int index, dg_video_result *v, int current);
dg_video_result *dg_document_store_take_video(dg_document *doc, int index);
// A video's deletion (dg_video_command.c), done already: `deleted` (taken) was at `index`, `current` the
// current video before. NULL when memory runs out (the error set).
dg_command *dg_video_delete_command_new(int index, dg_video_result *deleted, int current);
// A style change (dg_style_command.c): the whole state before and after (image references, no copies).
dg_command *dg_style_command_new(const dg_style *before, const dg_style *after, bool coalescing);
// Results changed together (dg_style_command.c), one undo step: n entries, each the index of a result and the
// result before (NULL: the step inserted it there) and after. The command takes the results' buffers (each
// before/after struct is copied; its pointers then belong to the command). Entries are applied in order on
// redo and in reverse on undo. NULL when memory runs out (error set).
dg_command *dg_results_command_new(int n, const int *index, dg_result *const *before, dg_result *const *after);
