#include "dg_runner.h"

#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_attention.h"
#include "dg_generate.h"
#include "dg_heatmaps.h"
#include "dg_memory.h"
#include "dg_model_choice.h"
#include "dg_palette.h"
#include "dg_palette_choice.h"
#include "dg_prompt_cut.h"
#include "dg_settings.h"
#include "dg_timeline.h"
#include "dg_unet3d.h"
#include "dg_video.h"

struct dg_runner {
  pthread_mutex_t lock; // one generation at a time
  char *tokenizer_dir;
  atomic_bool previews;
  atomic_int video_loads; // video UNets loaded at a video job (dg_model_set_load_video), all sets together
  uint8_t (*palette)[3]; // the colours of the job's palette
  int n_classes;
  dg_palette *job_palette; // the palette of the loaded set's jobs (its names may have made its class table)
  dg_device *device;
  dg_model_set *models;
  char *loaded; // path and palette of the loaded model set
  dg_generate_cache *cache; // the loaded set's text encodings and layout hints, kept between jobs
};

dg_runner *dg_runner_new(const char *tokenizer_dir, const char *palette_json) {
  dg_runner *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  pthread_mutex_init(&r->lock, NULL);
  atomic_init(&r->previews, true);
  atomic_init(&r->video_loads, 0);
  r->tokenizer_dir = tokenizer_dir ? strdup(tokenizer_dir) : NULL;
  r->cache = dg_generate_cache_new(); // NULL: every job computes its encodings
  dg_status s;
  dg_palette *pal = palette_json ? dg_palette_load(palette_json, &s) : NULL;
  if (pal) {
    r->n_classes = dg_palette_count(pal);
    r->palette = calloc((size_t)r->n_classes, sizeof *r->palette);
    for (int i = 0; r->palette && i < r->n_classes; i++) {
      const dg_palette_class *c = dg_palette_class_at(pal, i);
      if (c->id >= 0 && c->id < r->n_classes) memcpy(r->palette[c->id], c->rgb, 3);
    }
    dg_palette_free(pal);
  }
  return r;
}

void dg_runner_free(dg_runner *r) {
  if (!r) return;
  dg_generate_cache_free(r->cache);
  dg_model_set_close(r->models);
  dg_device_close(r->device);
  pthread_mutex_destroy(&r->lock);
  free(r->tokenizer_dir);
  free(r->palette);
  dg_palette_free(r->job_palette);
  free(r->loaded);
  free(r);
}

void dg_runner_set_previews(dg_runner *r, bool on) { atomic_store(&r->previews, on); }
int dg_runner_video_loads(dg_runner *r) { return atomic_load(&r->video_loads); }

bool dg_runner_has_tiny_decoder(dg_runner *r) {
  pthread_mutex_lock(&r->lock);
  bool has = r->models && dg_model_set_has(r->models, DG_ROLE_TINY_DECODER);
  pthread_mutex_unlock(&r->lock);
  return has;
}

void dg_runner_cache_stats(dg_runner *r, dg_generate_cache_stats *out) {
  pthread_mutex_lock(&r->lock);
  dg_generate_cache_get_stats(r->cache, out);
  pthread_mutex_unlock(&r->lock);
}

typedef struct preview_ctx {
  dg_job *job;
  uint8_t *rgba;
  // the marked words' maps, when the job has marks that resolve against its prompt
  dg_marks *marks;
  dg_mark_ref refs[2 * DG_MARKS_MAX];
  int n_refs;
  GString *labels;
  float *word_maps;
  // a video job's temporal attention: captured into `attention` at step attention_step (dg_video)
  float *attention;
  int attention_step, frames;
  bool attention_posted;
} preview_ctx;

// The step's token maps -> one map per marked word, posted with the step's report.
static int on_attn(void *user, int step, int total, const float *maps, int n, int mh, int mw) {
  (void)step, (void)total;
  preview_ctx *c = user;
  float *w = realloc(c->word_maps, (size_t)c->n_refs * mh * mw * sizeof *w);
  if (!w) return 0; // no maps this step; the generation goes on
  c->word_maps = w;
  dg_heatmaps one = {.sum = (float *)maps, .n = n, .mh = mh, .mw = mw, .steps = 1};
  for (int i = 0; i < c->n_refs; i++)
    dg_heatmaps_word(&one, c->marks, &c->refs[i], w + (size_t)i * mh * mw);
  dg_job_report_maps(c->job, w, c->n_refs, mh, mw, c->labels->str);
  return 0;
}

// Maps are captured only for marks that resolve in a prompt of at least one token: a word no
// longer in an edited prompt costs the heatmaps, never the generation.
static bool marks_for(dg_runner *r, const dg_job_params *params, preview_ctx *pc) {
  if (!params->marks || !*params->marks) return false;
  int32_t ids[DG_TOKENS_MAX];
  int n = 0;
  if (dg_tokenizer_encode(dg_model_set_tokenizer(r->models), params->prompt, DG_TOKENS_MAX, ids, NULL, &n) != DG_OK ||
      n - 2 < 1)
    return false;
  pc->marks = calloc(1, sizeof *pc->marks);
  if (!pc->marks || dg_generate_marks(r->models, params->prompt, params->marks, pc->marks) != DG_OK) return false;
  pc->n_refs = dg_marks_list(pc->marks, pc->refs, 2 * DG_MARKS_MAX);
  pc->labels = g_string_new("");
  for (int i = 0; i < pc->n_refs; i++)
    g_string_append_printf(pc->labels, "%s%s", i ? "\n" : "", pc->refs[i].label);
  return pc->n_refs > 0;
}

static void on_step(void *user, int step, int total, const uint8_t *rgb, int w, int h) {
  preview_ctx *c = user;
  uint8_t *rgba = realloc(c->rgba, (size_t)w * h * 4);
  if (!rgba) return;
  c->rgba = rgba;
  for (int i = 0; i < w * h; i++) {
    memcpy(rgba + 4 * i, rgb + 3 * i, 3);
    rgba[4 * i + 3] = 255;
  }
  dg_job_report(c->job, step, total, rgba, w, h);
}

// Loads (or keeps) the model set named by the job's model choice, after checking the job's image size
// against the model's rule (so a size it cannot take is refused before loading).
static dg_status models_for(dg_runner *r, const dg_job_params *params) {
  char *path = dg_model_choice_path(params->model);
  if (!path)
    return dg_fail(DG_ERR_UNSUPPORTED, "No model loaded: there is no default model (assets/models holds none and "
                                       "DIRIGENT_MODEL is not set); choose a model folder or checkpoint file");
  dg_status s = DG_OK;
  // The palette's names compute the class table of an ALDM ControlNet that stores none, so a set is
  // kept for one model and palette.
  const char *palette = params->palette ? params->palette : "world";
  char *key = g_strdup_printf("%s\n%s", path, palette);
  if (!r->models || strcmp(r->loaded, key)) {
    if (!r->device) s = dg_device_open(NULL, &r->device);
    dg_generate_cache_clear(r->cache); // a new set may open at the old one's address
    dg_model_set_close(r->models);
    r->models = NULL;
    free(r->loaded);
    r->loaded = NULL;
    dg_palette_free(r->job_palette);
    r->job_palette = s == DG_OK ? dg_palette_load_named(palette, &s) : NULL;
    const char **names = r->job_palette ? dg_palette_class_names(r->job_palette) : NULL;
    // The video UNet (~37 MB) loads at the set's first video job: image jobs never pay for it.
    dg_model_options o = {.default_tokenizer_dir = r->tokenizer_dir, .image_only = true, .class_names = names,
                          .n_class_names = r->job_palette ? dg_palette_count(r->job_palette) : 0};
    if (s == DG_OK) s = dg_settings_check_size(path, &o, r->device, params->width, params->height);
    if (s == DG_OK) s = dg_model_set_open(r->device, path, &o, &r->models);
    if (s == DG_OK) r->loaded = strdup(key);
    free(names);
    if (s == DG_OK) { // its colours, for a colour-hint ControlNet
      free(r->palette);
      r->n_classes = dg_palette_count(r->job_palette);
      r->palette = calloc((size_t)r->n_classes, sizeof *r->palette);
      for (int i = 0; r->palette && i < r->n_classes; i++)
        dg_palette_color(r->job_palette, i, r->palette[i]);
    }
  }
  g_free(key);
  g_free(path);
  return s;
}

// The marks the job's attention guidance runs with (NULL for none): the document's, else the suggestion
// from the palette's classes; a guidance with no marked object, or marks that do not resolve against the
// prompt, fail the job (naming the word).
static dg_status guidance_marks(dg_runner *r, const dg_job_params *params, dg_marks **out) {
  *out = NULL;
  if (params->attn_guidance == DG_GUIDANCE_NONE) return DG_OK;
  const char **names = r->job_palette ? dg_palette_class_names(r->job_palette) : NULL;
  char *text = NULL, *what = g_strdup_printf("The guidance %s", dg_guidance_name(params->attn_guidance));
  bool suggested;
  dg_status s = dg_settings_guidance_marks(params->attn_guidance, params->marks, params->prompt,
                                           (const char *const *)names, names ? dg_palette_count(r->job_palette) : 0,
                                           what, "mark a word of the prompt", &text, &suggested);
  if (s == DG_OK && !(*out = calloc(1, sizeof **out))) s = dg_fail(DG_ERR_OOM, "out of memory for the marks");
  if (s == DG_OK) s = dg_generate_marks(r->models, params->prompt, text, *out);
  if (s != DG_OK) free(*out), *out = NULL;
  free(names);
  g_free(text), g_free(what);
  return s;
}

// The image task: text/layout-to-image, one RGBA frame.
static dg_status run_image(dg_runner *r, dg_job *job, const dg_job_params *params, preview_ctx *pc, dg_media *out) {
  bool layout_used = false;
  for (int i = 0; params->layout && i < params->width * params->height; i++) layout_used |= params->layout[i] != 255;
  // A painted layout drives the layout ControlNet when the model has one.
  bool control = layout_used && dg_model_set_has_control(r->models);
  dg_marks *gmarks = NULL;
  DG_TRY(guidance_marks(r, params, &gmarks));
  dg_generate_params p = {.prompt = params->prompt, .negative = params->negative, .width = params->width,
                          .height = params->height, .steps = params->steps, .cfg = (float)params->guidance,
                          .control_scale = (float)params->control_scale,
                          .seed = params->seed, .sampler = DG_SAMPLER_DDIM,
                          .layout = control ? params->layout : NULL,
                          .palette = (const uint8_t(*)[3])r->palette, .n_classes = r->n_classes,
                          .cancel = dg_job_cancel_flag(job),
                          .on_step = atomic_load(&r->previews) ? on_step : NULL, .user = pc,
                          .on_attn = marks_for(r, params, pc) ? on_attn : NULL, .attn_user = pc,
                          .guidance = params->attn_guidance, .marks = gmarks, .cache = r->cache,
                          .fast_decode = params->fast_decode};
  int n = params->width * params->height;
  uint8_t *rgb = dg_memory_alloc("the image", (size_t)n * 3);
  if (!rgb) return free(gmarks), DG_ERR_OOM;
  dg_status s = dg_generate(r->models, &p, rgb);
  if (s == DG_OK) s = dg_media_alloc(out, 1, params->width, params->height, 4);
  for (int i = 0; s == DG_OK && i < n; i++) {
    memcpy(out->data + 4 * i, rgb + 3 * i, 3);
    out->data[4 * i + 3] = 255;
  }
  free(rgb);
  free(gmarks);
  return s;
}

// dg_video has filled the capture when it reports the capture step: the attention goes out with that step's
// report, so the editor's picture shows while the job runs.
static void post_attention(preview_ctx *c) {
  if (c->attention_posted) return;
  dg_job_set_attention(c->job, c->attention, c->frames);
  c->attention_posted = true;
}

static void on_video_step(void *user, int step, int total, int frame, const uint8_t *rgb, int w, int h) {
  (void)frame;
  preview_ctx *c = user;
  if (step >= c->attention_step) post_attention(c);
  on_step(user, step, total, rgb, w, h);
}

// The attention picture's layer and step against the model and the run, named when out of range.
static dg_status check_attention(const dg_model_set *m, const dg_timeline *t, int steps) {
  const dg_unet3d *u = dg_model_set_get(m, DG_ROLE_VIDEO_UNET);
  if (u && t->attention_layer >= u->n_temporal)
    return dg_fail(DG_ERR_ARG, "The attention picture's layer %d: this video model has temporal layers 0..%d",
                   t->attention_layer, u->n_temporal - 1);
  if (t->attention_step >= steps)
    return dg_fail(DG_ERR_ARG, "The attention picture's step %d: this run has steps 0..%d", t->attention_step,
                   steps - 1);
  return DG_OK;
}

// The video task: the document's timeline through dg_video, previews of the playhead's frame (followed
// while it moves), F RGBA frames, and the temporal attention of the timeline's chosen temporal transformer
// and step for the editor's picture, posted as soon as that step has run.
static dg_status run_video(dg_runner *r, dg_job *job, const dg_job_params *params, preview_ctx *pc, dg_media *out) {
  const dg_timeline *t = params->timeline;
  DG_TRY(dg_timeline_check(t));
  if (t->n_stages < 1) return dg_fail(DG_ERR_ARG, "The video timeline has no prompt stage: add one");
  int loads = dg_model_set_video_loads(r->models);
  DG_TRY(dg_model_set_load_video(r->models));
  atomic_fetch_add(&r->video_loads, dg_model_set_video_loads(r->models) - loads);
  bool layout_used = false;
  for (int i = 0; t->keep_layout && params->layout && i < params->width * params->height; i++)
    layout_used |= params->layout[i] != 255;
  dg_video_stage stages[DG_VIDEO_MAX_STAGES];
  dg_timeline_video_stages(t, stages);
  dg_tar tar;
  int64_t attn_widths[2];
  int n_attn = dg_video_attention_widths(r->models, params->width, attn_widths, 2);
  DG_TRY(dg_timeline_tar(t, attn_widths, n_attn, &tar));
  DG_TRY(check_attention(r->models, t, params->steps));
  dg_video_params p = {.stages = stages, .n_stages = t->n_stages, .negative = params->negative,
                       .frames = t->frames, .fps = (float)t->fps, .width = params->width, .height = params->height,
                       .steps = params->steps, .cfg = (float)params->guidance, .eta = 1.0f, .seed = params->seed,
                       .vsp = t->vsp, .tar = &tar, .capture_layer = t->attention_layer, .capture_attn = 0,
                       .capture_step = t->attention_step,
                       .layout = layout_used && dg_model_set_has_control(r->models) ? params->layout : NULL,
                       .palette = (const uint8_t(*)[3])r->palette, .n_classes = r->n_classes,
                       .control_scale = (float)params->control_scale, .cancel = dg_job_cancel_flag(job),
                       .preview_frame = params->preview_frame, .preview_frame_at = dg_job_preview_frame(job),
                       .on_step = atomic_load(&r->previews) ? on_video_step : NULL, .user = pc};
  int n = params->width * params->height;
  uint8_t *rgb = dg_memory_alloc("the video's frames", (size_t)n * 3 * t->frames);
  float *attention = dg_memory_alloc("the temporal attention", (size_t)t->frames * t->frames * sizeof(float));
  if (!rgb || !attention) return free(rgb), free(attention), DG_ERR_OOM;
  p.capture = attention;
  pc->attention = attention, pc->attention_step = t->attention_step, pc->frames = t->frames;
  dg_status s = dg_video_generate(r->models, &p, rgb);
  if (s == DG_OK) post_attention(pc); // without previews, at the end
  pc->attention = NULL;
  free(attention);
  if (s == DG_OK) s = dg_media_alloc(out, t->frames, params->width, params->height, 4);
  for (int64_t i = 0; s == DG_OK && i < (int64_t)n * t->frames; i++) {
    memcpy(out->data + 4 * i, rgb + 3 * i, 3);
    out->data[4 * i + 3] = 255;
  }
  free(rgb);
  return s;
}

// The prompts the text encoder cuts (the image's, or each stage's of a video), as the job's note.
static void note_prompt_cuts(dg_runner *r, dg_job *job, const dg_job_params *params) {
  GString *all = g_string_new(NULL);
  const dg_timeline *t = params->timeline;
  for (int i = -1; i < (t ? t->n_stages : 1); i++) {
    char what[48];
    if (i < 0) snprintf(what, sizeof what, "negative prompt");
    else if (t) snprintf(what, sizeof what, "prompt of stage %d", i + 1);
    else snprintf(what, sizeof what, "prompt");
    char *note = dg_prompt_cut_note(r->models, what, i < 0 ? params->negative : t ? t->stages[i].prompt : params->prompt);
    if (note) g_string_append_printf(all, "%s%s", all->len ? "; " : "", note);
    g_free(note);
  }
  dg_job_set_note(job, all->len ? all->str : NULL);
  g_string_free(all, TRUE);
}

dg_status dg_runner_run(dg_job *job, const dg_job_params *params, void *user, dg_media *out) {
  dg_runner *r = user;
  pthread_mutex_lock(&r->lock);
  preview_ctx pc = {.job = job};
  dg_status s = models_for(r, params);
  if (s == DG_OK) note_prompt_cuts(r, job, params);
  if (s == DG_OK) s = params->timeline ? run_video(r, job, params, &pc, out) : run_image(r, job, params, &pc, out);
  free(pc.rgba);
  free(pc.marks), free(pc.word_maps);
  if (pc.labels) g_string_free(pc.labels, TRUE);
  pthread_mutex_unlock(&r->lock);
  return s;
}
