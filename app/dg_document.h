// The editor's document: a layout map of class ids (DG_UNLABELLED = 255 is erased), prompt, negative
// prompt, seed, steps, guidance, layout strength, model choice and the list of results, with undo/redo for every edit.
// Every edit is a command object on the undo stack (dg_command.h): a pixel edit, bracketed by
// dg_document_edit_begin/end, keeps only the rectangle of changed pixels (before and after), never a
// whole copy. No GTK here: the CLI and tests use it too; app/dg_document_object.h wraps it as a GObject.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dg_status.h"
#include "dg_style.h"
#include "dg_timeline.h"
#include "dg_video_result.h"

#define DG_DOC_DEFAULT_WIDTH 256
#define DG_DOC_DEFAULT_HEIGHT 128
#define DG_DOC_MAX_SIDE 4096
#define DG_DOC_MAX_STEPS 1000 // = DG_SETTINGS_MAX_STEPS (app/dg_settings.h holds the rules)
#define DG_DOC_HISTORY_LIMIT 1000 // undo entries kept; the oldest are dropped beyond this

typedef struct dg_document dg_document;

typedef enum dg_doc_field {
  DG_FIELD_PROMPT,
  DG_FIELD_NEGATIVE,
  DG_FIELD_SEED,
  DG_FIELD_SEED_RANDOM,
  DG_FIELD_STEPS,
  DG_FIELD_GUIDANCE,
  DG_FIELD_CONTROL_SCALE, // the layout strength: the layout ControlNet's residual scale, 1 as trained
  DG_FIELD_MODEL,
  DG_FIELD_PALETTE, // the layout's class palette: "world", "ade20k", "cityscapes" or a palette file
  DG_FIELD_MARKS, // the prompt's marked words as a marks text (render/pipelines/dg_marks.h): "red:car, car#2"
  DG_FIELD_ATTN_GUIDANCE, // the marked objects' attention guidance (dg_guidance.h): "none", "divide-bind" ...
  DG_FIELD_LIVE, // live mode (the editor regenerates after every edit): a mode, not an edit, so no undo step
  DG_FIELD_COUNT,
} dg_doc_field;

// What changed, for listeners (the UI redraws only that).
enum {
  DG_CHANGED_LAYOUT = 1,                                // the rectangle x, y, w, h of the layout
  DG_CHANGED_RESULTS = 2,                               // the results list or the current result
  DG_CHANGED_HISTORY = 4,                               // the undo/redo availability
  DG_CHANGED_PARAMS = ((1 << DG_FIELD_COUNT) - 1) << 3, // any of the fields, one bit each:
  DG_CHANGED_TIMELINE = 1 << (3 + DG_FIELD_COUNT),      // the video timeline
  DG_CHANGED_VIDEO = 1 << (4 + DG_FIELD_COUNT),         // the videos or which is current (dg_document_video)
  DG_CHANGED_STYLE = 1 << (5 + DG_FIELD_COUNT),         // the style panel's state (dg_document_style)
  DG_CHANGED_ALL = DG_CHANGED_LAYOUT | DG_CHANGED_RESULTS | DG_CHANGED_HISTORY | DG_CHANGED_PARAMS |
                   DG_CHANGED_TIMELINE | DG_CHANGED_VIDEO | DG_CHANGED_STYLE,
};
#define DG_CHANGED_FIELD(field) (1 << (3 + (int)(field)))
// Listeners get DG_CHANGED_RESULTS with x = the first result that changed and w = 1 when results from x on
// were replaced, inserted or removed (a style step, its undo), w = 0 when results were only appended or the
// current result moved.
typedef void (*dg_document_listener)(dg_document *doc, int what, int x, int y, int w, int h, void *user);

// A generated image (RGBA8, rows packed) with the settings that made it.
typedef struct dg_result {
  int width, height;
  uint8_t *rgba;
  uint64_t seed;
  int steps;
  double guidance;
  // The layout ControlNet's residual scale it was made with (the document's layout strength); 1 as trained. The
  // document stores a result given 0 (not set) as 1.
  double control_scale;
  char *prompt, *negative, *model;
  char *marks, *attn_guidance; // the marks text and the attention guidance's name; NULL: none
  char *style;                 // a stylized result: how (dg_style_describe, "fda 0.80 of world 12"); NULL: generated
  // Given by the document each time it stores a result (added, inserted, replaced; 0 outside a document), never
  // reused: work that runs while the results change (a restyling of every result) finds its results by id,
  // and a result replaced meanwhile is another one. Not saved: a project reopened numbers its results afresh.
  uint64_t id;
} dg_result;

// A blank document (all pixels DG_UNLABELLED) of height x width; NULL on bad size (error set).
dg_document *dg_document_new(int height, int width);
// A copy of everything a project file holds (layout, settings, results; no history, no listener), for
// saving on another thread while the original goes on changing. NULL (the size named) when memory runs
// out.
dg_document *dg_document_copy(const dg_document *doc);
void dg_document_free(dg_document *doc);
void dg_document_set_listener(dg_document *doc, dg_document_listener fn, void *user);

int dg_document_width(const dg_document *doc);
int dg_document_height(const dg_document *doc);
const uint8_t *dg_document_layout(const dg_document *doc);
int dg_document_pixel(const dg_document *doc, int x, int y); // -1 outside
// Pixel counts per class id (counts[256]).
void dg_document_class_areas(const dg_document *doc, int64_t counts[256]);

// Pixel edits. Every drawing call between begin and end becomes one undo step (if any pixel changed).
// Drawing calls outside a begin/end pair are wrapped in their own step.
void dg_document_edit_begin(dg_document *doc);
void dg_document_edit_end(dg_document *doc);
bool dg_document_editing(const dg_document *doc); // between begin and end: a stroke in progress
void dg_document_paint_dab(dg_document *doc, double cx, double cy, double radius, int cls);
// A brush stroke segment from (x0,y0) to (x1,y1): round dabs spaced at most a quarter radius apart.
void dg_document_paint_line(dg_document *doc, double x0, double y0, double x1, double y1, double radius, int cls);
// A whole stroke as one undo step: segments through n points (x, y pairs in layout pixels, each addressing
// the pixel's centre); one point paints one dab. The editor's paint-stroke action and live replay use it.
void dg_document_paint_stroke(dg_document *doc, const int *xy, int n, double radius, int cls);
// 4-connected flood fill of the region of equal id containing (x, y).
void dg_document_flood_fill(dg_document *doc, int x, int y, int cls);
// Fills the rectangle between two corner pixels (inclusive, any order, clipped).
void dg_document_fill_rect(dg_document *doc, int x0, int y0, int x1, int y1, int cls);
// Fills a polygon (pixel centres inside by the even-odd rule); xy holds n (x, y) vertex pairs.
void dg_document_fill_polygon(dg_document *doc, const double *xy, int n, int cls);
// Replaces the whole layout (an import); dimensions must match (else DG_ERR_ARG).
dg_status dg_document_set_layout(dg_document *doc, const uint8_t *ids, int height, int width);
// Switches the palette and replaces the whole layout with `ids` (its conversion, of the document's
// size) as one undo step: undo restores both the ids and the palette name.
dg_status dg_document_set_palette_layout(dg_document *doc, const char *palette, const uint8_t *ids);

// Parameters. Each change is one undo step; with `coalesce`, a text edit directly following a
// coalescing edit of the same field merges into it (typing), until dg_document_seal_history. Setters validate
// (steps 1..DG_DOC_MAX_STEPS, guidance 0..100, layout strength above 0 to 4, texts valid UTF-8 of at most
// 64 KiB) and return DG_ERR_ARG naming the bad value without changing anything.
const char *dg_document_prompt(const dg_document *doc);
const char *dg_document_negative(const dg_document *doc);
const char *dg_document_model(const dg_document *doc);
const char *dg_document_palette(const dg_document *doc); // "world" unless set
// The marks text (dg_marks.h), "" for none; set with dg_document_set_text(DG_FIELD_MARKS), one undo step
// per change. Words no longer in an edited prompt stay in it until removed (resolving names them).
const char *dg_document_marks(const dg_document *doc);
// The attention guidance of the marked objects by its name (dg_guidance_name: "none", "attend-excite",
// "divide-bind"); set with dg_document_set_text(DG_FIELD_ATTN_GUIDANCE), which refuses any other name
// (DG_ERR_ARG naming it) and stores "" as "none". Not the classifier-free guidance scale below.
const char *dg_document_attn_guidance(const dg_document *doc);
uint64_t dg_document_seed(const dg_document *doc);
bool dg_document_seed_random(const dg_document *doc);
// Live mode, off in a new document. Setting it notifies DG_CHANGED_FIELD(DG_FIELD_LIVE) but records no
// undo step: it changes how the editor generates, never the result.
bool dg_document_live(const dg_document *doc);
void dg_document_set_live(dg_document *doc, bool live);
int dg_document_steps(const dg_document *doc);
double dg_document_guidance(const dg_document *doc);
// The layout strength: how strongly the painted layout is followed, the layout ControlNet's residual scale
// (dg_denoise.h's control_scale). 1 (as trained) in a new document; above 0, at most
// DG_SETTINGS_MAX_CONTROL_SCALE (4, dg_settings_check_control_scale, the CLI's --control-scale rule). Each change
// is one undo step; listeners get DG_CHANGED_FIELD(DG_FIELD_CONTROL_SCALE). Jobs take it (a live frame's is
// DG_SETTINGS_LIVE_CONTROL_SCALE times it).
double dg_document_control_scale(const dg_document *doc);
dg_status dg_document_set_text(dg_document *doc, dg_doc_field field, const char *text, bool coalesce);
dg_status dg_document_set_seed(dg_document *doc, uint64_t seed);
dg_status dg_document_set_seed_random(dg_document *doc, bool random);
dg_status dg_document_set_steps(dg_document *doc, int steps);
dg_status dg_document_set_guidance(dg_document *doc, double guidance);
dg_status dg_document_set_control_scale(dg_document *doc, double scale);

// The video timeline (dg_timeline.h): dg_timeline_init's in a new document. Setting it validates
// (dg_timeline_check; DG_ERR_ARG changes nothing) and is one undo step; with `coalesce`, a change directly
// following a coalescing timeline change merges into it (typing into a stage's prompt, dragging a stage),
// until dg_document_seal_history. Listeners get DG_CHANGED_TIMELINE.
const dg_timeline *dg_document_timeline(const dg_document *doc);
dg_status dg_document_set_timeline(dg_document *doc, const dg_timeline *t, bool coalesce);
// The generated videos of the timeline (dg_video_result.h), oldest first: every one is kept, as results are,
// and adding one is not an undo step (generating is not an edit); deleting one is. The current video is the
// one the timeline player shows and exports: dg_document_video, NULL when none. add takes v's buffers (v is
// left initialised) and makes it current. Listeners get DG_CHANGED_VIDEO for each change, the current one's
// included.
const dg_video_result *dg_document_video(const dg_document *doc);
int dg_document_video_count(const dg_document *doc);
const dg_video_result *dg_document_video_at(const dg_document *doc, int index); // NULL outside 0..count-1
int dg_document_current_video(const dg_document *doc);                         // -1 if none
void dg_document_set_current_video(dg_document *doc, int index);               // -1..count-1, else nothing
void dg_document_add_video(dg_document *doc, dg_video_result *v);
// One undo step; the current video stays current when another goes (else its neighbour becomes current).
// DG_ERR_ARG naming the index when there is no such video.
dg_status dg_document_delete_video(dg_document *doc, int index);
// Results (not part of the undo history: generating is not an edit).
int dg_document_result_count(const dg_document *doc);
const dg_result *dg_document_result(const dg_document *doc, int index);
// The index of the result with that id (dg_result.id), -1 when it is gone or was replaced.
int dg_document_result_find(const dg_document *doc, uint64_t id);
// Takes ownership of r's buffers (r itself is copied).
void dg_document_add_result(dg_document *doc, dg_result *r);
int dg_document_current_result(const dg_document *doc); // -1 if none
void dg_document_set_current_result(dg_document *doc, int index);
void dg_result_clear(dg_result *r);
// A deep copy of src into dst; DG_ERR_OOM naming the size (dst then clear).
dg_status dg_result_copy(dg_result *dst, const dg_result *src);

// The style panel's state (dg_style.h): empty slots, FDA and the default strength in a new document. Setting
// it validates (dg_style_check; DG_ERR_ARG changes nothing) and is one undo step; with `coalesce`, a change
// directly following a coalescing style change merges into it (the strength slider dragged), until
// dg_document_seal_history. Listeners get DG_CHANGED_STYLE. Stylized results are added and replaced through
// app/dg_style_edit.h, each batch one undo step.
const dg_style *dg_document_style(const dg_document *doc);
dg_status dg_document_set_style(dg_document *doc, const dg_style *style, bool coalesce);

// History.
bool dg_document_can_undo(const dg_document *doc);
bool dg_document_can_redo(const dg_document *doc);
bool dg_document_undo(dg_document *doc);
bool dg_document_redo(dg_document *doc);
int dg_document_undo_depth(const dg_document *doc);
// Ends the merging of coalescing text edits: the next edit is a new undo step (a typing pause).
void dg_document_seal_history(dg_document *doc);
// Forgets all undo/redo steps (after opening a file).
void dg_document_clear_history(dg_document *doc);
// The name of the command that undo (or redo) would apply, NULL if none, e.g. "pixels", "text", "value".
const char *dg_document_undo_name(const dg_document *doc);
const char *dg_document_redo_name(const dg_document *doc);
// Bytes held by the history (to check that strokes store rectangles, not copies).
size_t dg_document_history_bytes(const dg_document *doc);
// Increments on every change; the UI compares it with the saved generation to show "modified".
uint64_t dg_document_generation(const dg_document *doc);
