#include "dg_timeline_edit.h"

// Applies `change` to a copy of the document's timeline and sets it (one undo step, validated).
typedef dg_status (*change_fn)(dg_timeline *t, const void *arg);

static dg_status edit(dg_document *doc, change_fn change, const void *arg, bool coalesce) {
  dg_timeline t;
  dg_timeline_init(&t);
  dg_status s = dg_timeline_copy(&t, dg_document_timeline(doc));
  if (s == DG_OK) s = change(&t, arg);
  if (s == DG_OK) s = dg_document_set_timeline(doc, &t, coalesce);
  dg_timeline_clear(&t);
  return s;
}

typedef struct stage_arg {
  int index, frame;
  const char *prompt;
  double a, b;
} stage_arg;

static dg_status add(dg_timeline *t, const void *p) {
  const stage_arg *a = p;
  return dg_timeline_add_stage(t, a->frame, a->prompt);
}
dg_status dg_timeline_edit_add_stage(dg_document *doc, int frame, const char *prompt) {
  return edit(doc, add, &(stage_arg){.frame = frame, .prompt = prompt}, false);
}

static dg_status remove_stage(dg_timeline *t, const void *p) {
  return dg_timeline_remove_stage(t, ((const stage_arg *)p)->index);
}
dg_status dg_timeline_edit_remove_stage(dg_document *doc, int index) {
  return edit(doc, remove_stage, &(stage_arg){.index = index}, false);
}

static dg_status move(dg_timeline *t, const void *p) {
  const stage_arg *a = p;
  if (dg_timeline_move_stage(t, a->index, a->frame) < 0)
    return dg_fail(DG_ERR_ARG, "timeline: no stage %d (%d stages)", a->index + 1, t->n_stages);
  return DG_OK;
}
dg_status dg_timeline_edit_move_stage(dg_document *doc, int index, int frame, bool coalesce) {
  return edit(doc, move, &(stage_arg){.index = index, .frame = frame}, coalesce);
}

static dg_status set_end(dg_timeline *t, const void *p) {
  const stage_arg *a = p;
  if (a->index < 0 || a->index + 1 >= t->n_stages)
    return dg_fail(DG_ERR_ARG, "timeline: stage %d %s", a->index + 1,
                   a->index + 1 == t->n_stages ? "is the last one: it runs to the end of the clip" : "does not exist");
  dg_timeline_move_stage(t, a->index + 1, a->frame + 1);
  return DG_OK;
}
dg_status dg_timeline_edit_set_end(dg_document *doc, int index, int last, bool coalesce) {
  return edit(doc, set_end, &(stage_arg){.index = index, .frame = last}, coalesce);
}

static dg_status set_prompt(dg_timeline *t, const void *p) {
  const stage_arg *a = p;
  return dg_timeline_set_prompt(t, a->index, a->prompt);
}
dg_status dg_timeline_edit_set_prompt(dg_document *doc, int index, const char *prompt, bool coalesce) {
  return edit(doc, set_prompt, &(stage_arg){.index = index, .prompt = prompt}, coalesce);
}

static dg_status set_frames(dg_timeline *t, const void *p) {
  int frames = ((const stage_arg *)p)->frame;
  double fine, next;
  dg_timeline_tar_preset(t->frames, &fine, &next);
  bool preset = t->sigma_fine == fine && t->sigma_next == next; // the person did not choose other sigmas
  DG_TRY(dg_timeline_set_frames(t, frames));
  if (preset) dg_timeline_tar_preset(frames, &t->sigma_fine, &t->sigma_next);
  return DG_OK;
}
dg_status dg_timeline_edit_set_frames(dg_document *doc, int frames) {
  return edit(doc, set_frames, &(stage_arg){.frame = frames}, false);
}

static dg_status set_fps(dg_timeline *t, const void *p) {
  t->fps = ((const stage_arg *)p)->a;
  return DG_OK;
}
dg_status dg_timeline_edit_set_fps(dg_document *doc, double fps) {
  return edit(doc, set_fps, &(stage_arg){.a = fps}, false);
}

static dg_status set_tar(dg_timeline *t, const void *p) {
  const stage_arg *a = p;
  t->sigma_fine = a->a, t->sigma_next = a->b, t->until = a->frame;
  return DG_OK;
}
dg_status dg_timeline_edit_set_tar(dg_document *doc, double sigma_fine, double sigma_next, int until) {
  return edit(doc, set_tar, &(stage_arg){.a = sigma_fine, .b = sigma_next, .frame = until}, false);
}

static dg_status set_keep(dg_timeline *t, const void *p) {
  t->keep_layout = ((const stage_arg *)p)->frame != 0;
  return DG_OK;
}
dg_status dg_timeline_edit_set_keep_layout(dg_document *doc, bool keep) {
  return edit(doc, set_keep, &(stage_arg){.frame = keep}, false);
}

static dg_status set_attention(dg_timeline *t, const void *p) {
  const stage_arg *a = p;
  t->attention_layer = a->index, t->attention_step = a->frame; // dg_timeline_check bounds them
  return DG_OK;
}
dg_status dg_timeline_edit_set_attention(dg_document *doc, int layer, int step) {
  return edit(doc, set_attention, &(stage_arg){.index = layer, .frame = step}, false);
}

static dg_status set_vsp(dg_timeline *t, const void *p) {
  t->vsp = (dg_vsp_mode)((const stage_arg *)p)->frame; // dg_timeline_check refuses another value
  return DG_OK;
}
dg_status dg_timeline_edit_set_vsp(dg_document *doc, dg_vsp_mode vsp) {
  return edit(doc, set_vsp, &(stage_arg){.frame = (int)vsp}, false);
}
