#include "dg_video_result.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "dg_memory.h"
#include "dg_world_json.h"

void dg_video_result_init(dg_video_result *v) {
  memset(v, 0, sizeof *v);
  dg_timeline_init(&v->timeline);
}

void dg_video_result_clear(dg_video_result *v) {
  dg_media_clear(&v->frames);
  dg_timeline_clear(&v->timeline);
  free(v->negative), free(v->model), free(v->attention);
  dg_video_result_init(v);
}

dg_status dg_video_result_copy(dg_video_result *dst, const dg_video_result *src) {
  dg_video_result_clear(dst);
  size_t bytes = dg_media_frame_bytes(&src->frames) * (size_t)src->frames.frames;
  size_t att = (size_t)src->attention_frames * src->attention_frames * sizeof(float);
  dst->frames = src->frames;
  dst->frames.data = bytes ? malloc(bytes) : NULL;
  dst->negative = strdup(src->negative ? src->negative : "");
  dst->model = strdup(src->model ? src->model : "");
  dst->attention = src->attention && att ? malloc(att) : NULL;
  bool ok = (!bytes || dst->frames.data) && dst->negative && dst->model &&
            (!src->attention || !att || dst->attention) && dg_timeline_copy(&dst->timeline, &src->timeline) == DG_OK;
  if (!ok) {
    dg_video_result_clear(dst);
    return dg_memory_fail("a copy of the video's frames", bytes + att);
  }
  if (bytes) memcpy(dst->frames.data, src->frames.data, bytes);
  if (dst->attention) memcpy(dst->attention, src->attention, att);
  dst->attention_frames = dst->attention ? src->attention_frames : 0;
  dst->seed = src->seed, dst->steps = src->steps, dst->guidance = src->guidance;
  dst->control_scale = src->control_scale;
  return DG_OK;
}

char *dg_video_result_job_json(const dg_video_result *v) {
  const dg_timeline *t = &v->timeline;
  static const char *const vsp[] = {"off", "linear", "same"};
  dg_json j;
  dg_json_init(&j);
  dg_json_add(&j, "{\"task\": \"video\", \"model\": ");
  dg_json_str(&j, v->model ? v->model : "");
  dg_json_add(&j, ", \"stages\": [");
  for (int i = 0; i < t->n_stages; i++) {
    dg_json_add(&j, "%s{\"frame\": %d, \"prompt\": ", i ? ", " : "", t->stages[i].frame);
    dg_json_str(&j, t->stages[i].prompt);
    dg_json_add(&j, "}");
  }
  dg_json_add(&j, "], \"negative\": ");
  dg_json_str(&j, v->negative ? v->negative : "");
  // g_ascii_dtostr: the editor runs in the user's locale, JSON numbers have a point
  char fps[G_ASCII_DTOSTR_BUF_SIZE], cfg[G_ASCII_DTOSTR_BUF_SIZE], sf[G_ASCII_DTOSTR_BUF_SIZE],
      sn[G_ASCII_DTOSTR_BUF_SIZE], cs[G_ASCII_DTOSTR_BUF_SIZE];
  dg_json_add(&j,
              ", \"frames\": %d, \"fps\": %s, \"width\": %d, \"height\": %d, \"steps\": %d, \"cfg\": %s, "
              "\"seed\": %llu, \"vsp\": \"%s\", \"sigma_fine\": %s, \"sigma_next\": %s, \"until\": %d, "
              "\"keep_layout\": %s, \"control_scale\": %s}",
              v->frames.frames, g_ascii_dtostr(fps, sizeof fps, t->fps), v->frames.width, v->frames.height, v->steps,
              g_ascii_dtostr(cfg, sizeof cfg, v->guidance), (unsigned long long)v->seed,
              (unsigned)t->vsp < 3 ? vsp[t->vsp] : "linear", g_ascii_dtostr(sf, sizeof sf, t->sigma_fine),
              g_ascii_dtostr(sn, sizeof sn, t->sigma_next), t->until, t->keep_layout ? "true" : "false",
              g_ascii_dtostr(cs, sizeof cs, v->control_scale > 0 ? v->control_scale : 1));
  char *text = dg_json_finish(&j), *out = g_strdup(text ? text : "");
  free(text);
  return out;
}
