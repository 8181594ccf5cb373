#include "dg_timeline.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_memory.h"

#define MAX_PROMPT_BYTES (64 * 1024)

void dg_timeline_init(dg_timeline *t) {
  memset(t, 0, sizeof *t);
  t->frames = 16;
  t->fps = 8;
  t->vsp = DG_VSP_LINEAR;
  t->sigma_fine = 1;
  t->until = 13;
  t->keep_layout = true;
}

void dg_timeline_clear(dg_timeline *t) {
  for (int i = 0; i < t->n_stages; i++) free(t->stages[i].prompt);
  dg_timeline_init(t);
}

dg_status dg_timeline_copy(dg_timeline *dst, const dg_timeline *src) {
  if (dst == src) return DG_OK;
  dg_timeline c = *src;
  for (int i = 0; i < src->n_stages; i++) {
    c.stages[i].prompt = strdup(src->stages[i].prompt ? src->stages[i].prompt : "");
    if (!c.stages[i].prompt) {
      c.n_stages = i;
      dg_timeline_clear(&c);
      return dg_memory_fail("a timeline stage's prompt", strlen(src->stages[i].prompt) + 1);
    }
  }
  dg_timeline_clear(dst);
  *dst = c;
  return DG_OK;
}

bool dg_timeline_equal(const dg_timeline *a, const dg_timeline *b) {
  if (a->frames != b->frames || a->fps != b->fps || a->n_stages != b->n_stages || a->vsp != b->vsp ||
      a->sigma_fine != b->sigma_fine || a->sigma_next != b->sigma_next || a->until != b->until ||
      a->keep_layout != b->keep_layout || a->attention_layer != b->attention_layer ||
      a->attention_step != b->attention_step)
    return false;
  for (int i = 0; i < a->n_stages; i++)
    if (a->stages[i].frame != b->stages[i].frame || strcmp(a->stages[i].prompt, b->stages[i].prompt) != 0)
      return false;
  return true;
}

static bool sigma_ok(double s) { return s >= 0 && s <= DG_TIMELINE_MAX_SIGMA; } // false for NaN

dg_status dg_timeline_check(const dg_timeline *t) {
  if (t->frames < DG_TIMELINE_MIN_FRAMES || t->frames > DG_TIMELINE_MAX_FRAMES)
    return dg_fail(DG_ERR_ARG, "timeline: %d frames (%d..%d)", t->frames, DG_TIMELINE_MIN_FRAMES,
                   DG_TIMELINE_MAX_FRAMES);
  if (!(t->fps > 0 && t->fps <= DG_TIMELINE_MAX_FPS))
    return dg_fail(DG_ERR_ARG, "timeline: %g fps (above 0, at most %g)", t->fps, DG_TIMELINE_MAX_FPS);
  if (t->n_stages < 0 || t->n_stages > DG_TIMELINE_MAX_STAGES)
    return dg_fail(DG_ERR_ARG, "timeline: %d stages (at most %d)", t->n_stages, DG_TIMELINE_MAX_STAGES);
  for (int i = 0; i < t->n_stages; i++) {
    const dg_timeline_stage *s = &t->stages[i];
    if (s->frame < 0 || s->frame >= t->frames)
      return dg_fail(DG_ERR_ARG, "timeline: stage %d at frame %d, outside 0..%d", i + 1, s->frame, t->frames - 1);
    if (i > 0 && s->frame <= t->stages[i - 1].frame)
      return dg_fail(DG_ERR_ARG, "timeline: stage %d at frame %d, not after stage %d at frame %d", i + 1, s->frame,
                     i, t->stages[i - 1].frame);
    if (!s->prompt) return dg_fail(DG_ERR_ARG, "timeline: stage %d has no prompt", i + 1);
    size_t n = strlen(s->prompt);
    if (n > MAX_PROMPT_BYTES || !g_utf8_validate(s->prompt, (gssize)n, NULL))
      return dg_fail(DG_ERR_ARG, "timeline: stage %d's prompt is not valid UTF-8 of at most %d bytes (%zu bytes)",
                     i + 1, MAX_PROMPT_BYTES, n);
  }
  if (t->vsp != DG_VSP_OFF && t->vsp != DG_VSP_LINEAR && t->vsp != DG_VSP_SAME)
    return dg_fail(DG_ERR_ARG, "timeline: VSP mode %d (off 0, linear 1, same 2)", (int)t->vsp);
  if (!sigma_ok(t->sigma_fine) || !sigma_ok(t->sigma_next))
    return dg_fail(DG_ERR_ARG, "timeline: TAR sigma %g / %g outside 0..%g", t->sigma_fine, t->sigma_next,
                   DG_TIMELINE_MAX_SIGMA);
  if (t->until < 0) return dg_fail(DG_ERR_ARG, "timeline: TAR until step %d (0 or more)", t->until);
  if (t->attention_layer < 0 || t->attention_layer > DG_TIMELINE_MAX_ATTENTION_LAYER ||
      t->attention_step < 0 || t->attention_step > DG_TIMELINE_MAX_ATTENTION_STEP)
    return dg_fail(DG_ERR_ARG, "timeline: attention picture of layer %d at step %d (layers 0..%d, steps 0..%d)",
                   t->attention_layer, t->attention_step, DG_TIMELINE_MAX_ATTENTION_LAYER,
                   DG_TIMELINE_MAX_ATTENTION_STEP);
  return DG_OK;
}

dg_status dg_timeline_add_stage(dg_timeline *t, int frame, const char *prompt) {
  if (t->n_stages >= DG_TIMELINE_MAX_STAGES)
    return dg_fail(DG_ERR_ARG, "timeline: already %d stages (the most)", t->n_stages);
  if (frame < 0 || frame >= t->frames)
    return dg_fail(DG_ERR_ARG, "timeline: stage frame %d outside 0..%d", frame, t->frames - 1);
  int at = 0;
  while (at < t->n_stages && t->stages[at].frame < frame) at++;
  if (at < t->n_stages && t->stages[at].frame == frame)
    return dg_fail(DG_ERR_ARG, "timeline: frame %d already has a stage", frame);
  char *p = strdup(prompt ? prompt : "");
  if (!p) return dg_memory_fail("a timeline stage's prompt", prompt ? strlen(prompt) + 1 : 1);
  memmove(&t->stages[at + 1], &t->stages[at], (size_t)(t->n_stages - at) * sizeof t->stages[0]);
  t->stages[at] = (dg_timeline_stage){frame, p};
  t->n_stages++;
  return DG_OK;
}

dg_status dg_timeline_remove_stage(dg_timeline *t, int index) {
  if (index < 0 || index >= t->n_stages)
    return dg_fail(DG_ERR_ARG, "timeline: no stage %d (%d stages)", index + 1, t->n_stages);
  free(t->stages[index].prompt);
  memmove(&t->stages[index], &t->stages[index + 1], (size_t)(t->n_stages - index - 1) * sizeof t->stages[0]);
  t->n_stages--;
  return DG_OK;
}

int dg_timeline_move_stage(dg_timeline *t, int index, int frame) {
  if (index < 0 || index >= t->n_stages) return -1;
  int lo = index > 0 ? t->stages[index - 1].frame + 1 : 0;
  int hi = index + 1 < t->n_stages ? t->stages[index + 1].frame - 1 : t->frames - 1;
  t->stages[index].frame = frame < lo ? lo : frame > hi ? hi : frame;
  return t->stages[index].frame;
}

dg_status dg_timeline_set_prompt(dg_timeline *t, int index, const char *prompt) {
  if (index < 0 || index >= t->n_stages)
    return dg_fail(DG_ERR_ARG, "timeline: no stage %d (%d stages)", index + 1, t->n_stages);
  char *p = strdup(prompt ? prompt : "");
  if (!p) return dg_memory_fail("a timeline stage's prompt", strlen(prompt) + 1);
  free(t->stages[index].prompt);
  t->stages[index].prompt = p;
  return DG_OK;
}

dg_status dg_timeline_set_frames(dg_timeline *t, int frames) {
  if (frames < DG_TIMELINE_MIN_FRAMES || frames > DG_TIMELINE_MAX_FRAMES)
    return dg_fail(DG_ERR_ARG, "timeline: %d frames (%d..%d)", frames, DG_TIMELINE_MIN_FRAMES, DG_TIMELINE_MAX_FRAMES);
  if (frames < t->n_stages)
    return dg_fail(DG_ERR_ARG, "timeline: %d stages do not fit in %d frames", t->n_stages, frames);
  for (int i = 0; i < t->n_stages; i++) {
    int f = (int)lround((double)t->stages[i].frame * (frames - 1) / (t->frames > 1 ? t->frames - 1 : 1));
    int lo = i > 0 ? t->stages[i - 1].frame + 1 : 0, hi = frames - (t->n_stages - i);
    t->stages[i].frame = f < lo ? lo : f > hi ? hi : f;
  }
  t->frames = frames;
  return DG_OK;
}

void dg_timeline_tar_preset(int frames, double *sigma_fine, double *sigma_next) {
  *sigma_fine = 1;
  *sigma_next = frames > 32 ? 8 : 0;
}

void dg_timeline_video_stages(const dg_timeline *t, dg_video_stage *out) {
  for (int i = 0; i < t->n_stages; i++) out[i] = (dg_video_stage){t->stages[i].frame, t->stages[i].prompt};
}

dg_status dg_timeline_tar(const dg_timeline *t, const int64_t *widths, int n, dg_tar *out) {
  int64_t at[2];
  float sigmas[2];
  int k = 0;
  if (t->sigma_fine > 0 && n > 0) at[k] = widths[0], sigmas[k++] = (float)t->sigma_fine;
  if (t->sigma_next > 0 && n > 1) at[k] = widths[1], sigmas[k++] = (float)t->sigma_next;
  return dg_tar_init(out, k, at, sigmas, 1.0f, t->until);
}
