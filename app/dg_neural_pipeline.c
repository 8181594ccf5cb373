#include "dg_neural_pipeline.h"

#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "dg_generate.h"
#include "dg_memory.h"
#include "dg_model_choice.h"
#include "dg_palette.h"
#include "dg_settings.h"

struct dg_neural_pipeline {
  pthread_mutex_t lock; // one generation at a time
  char *tokenizer_dir;
  atomic_bool previews;
  uint8_t (*palette)[3];
  int n_classes;
  dg_device *device;
  dg_model_set *models;
  char *loaded; // path of the loaded model set
};

dg_neural_pipeline *dg_neural_pipeline_new(const char *tokenizer_dir, const char *palette_json) {
  dg_neural_pipeline *np = calloc(1, sizeof *np);
  if (!np) return NULL;
  pthread_mutex_init(&np->lock, NULL);
  atomic_init(&np->previews, true);
  np->tokenizer_dir = tokenizer_dir ? strdup(tokenizer_dir) : NULL;
  dg_status s;
  dg_palette *pal = palette_json ? dg_palette_load(palette_json, &s) : NULL;
  if (pal) {
    np->n_classes = dg_palette_count(pal);
    np->palette = calloc((size_t)np->n_classes, sizeof *np->palette);
    for (int i = 0; np->palette && i < np->n_classes; i++) {
      const dg_palette_class *c = dg_palette_class_at(pal, i);
      if (c->id >= 0 && c->id < np->n_classes) memcpy(np->palette[c->id], c->rgb, 3);
    }
    dg_palette_free(pal);
  }
  return np;
}

void dg_neural_pipeline_free(dg_neural_pipeline *np) {
  if (!np) return;
  dg_model_set_close(np->models);
  dg_device_close(np->device);
  pthread_mutex_destroy(&np->lock);
  free(np->tokenizer_dir);
  free(np->palette);
  free(np->loaded);
  free(np);
}

void dg_neural_pipeline_set_previews(dg_neural_pipeline *np, bool on) { atomic_store(&np->previews, on); }

typedef struct preview_ctx {
  dg_job *job;
  uint8_t *rgba;
} preview_ctx;

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
static dg_status models_for(dg_neural_pipeline *np, const dg_job_params *params) {
  char *path = dg_model_choice_path(params->model);
  if (!path)
    return dg_fail(DG_ERR_UNSUPPORTED, "No model loaded: there is no default model (assets/models holds none and "
                                       "DIRIGENT_MODEL is not set); choose a model folder or checkpoint file");
  dg_status s = DG_OK;
  if (!np->models || strcmp(np->loaded, path)) {
    if (!np->device) s = dg_device_open(NULL, &np->device);
    dg_model_set_close(np->models);
    np->models = NULL;
    free(np->loaded);
    np->loaded = NULL;
    dg_model_options o = {.default_tokenizer_dir = np->tokenizer_dir};
    if (s == DG_OK)
      s = dg_settings_check_size(path, &o, np->device, (float)params->guidance, params->width, params->height);
    if (s == DG_OK) s = dg_model_set_open(np->device, path, &o, &np->models);
    if (s == DG_OK) np->loaded = strdup(path);
  }
  g_free(path);
  return s;
}

dg_status dg_neural_pipeline_run(dg_job *job, const dg_job_params *params, void *user, int *out_width,
                                 int *out_height, uint8_t **out_rgba) {
  dg_neural_pipeline *np = user;
  pthread_mutex_lock(&np->lock);
  dg_status s = models_for(np, params);
  bool layout_used = false;
  for (int i = 0; params->layout && i < params->width * params->height; i++) layout_used |= params->layout[i] != 255;
  preview_ctx pc = {job, NULL};
  uint8_t *rgb = s == DG_OK ? dg_memory_alloc("the image", (size_t)params->width * params->height * 3) : NULL;
  if (s == DG_OK && !rgb) s = DG_ERR_OOM;
  if (s == DG_OK) {
    // A painted layout drives the layout ControlNet when the model has one.
    bool control = layout_used && dg_model_set_has_control(np->models);
    dg_generate_params p = {.prompt = params->prompt, .negative = params->negative, .width = params->width,
                            .height = params->height, .steps = params->steps, .cfg = (float)params->guidance,
                            .seed = params->seed, .sampler = DG_SAMPLER_DDIM,
                            .layout = control ? params->layout : NULL,
                            .palette = (const uint8_t(*)[3])np->palette, .n_classes = np->n_classes,
                            .cancel = dg_job_cancel_flag(job),
                            .on_step = atomic_load(&np->previews) ? on_step : NULL, .user = &pc};
    s = dg_generate(np->models, &p, rgb);
  }
  if (s == DG_OK) {
    int n = params->width * params->height;
    uint8_t *rgba = dg_memory_alloc("the result", (size_t)n * 4);
    if (!rgba) s = DG_ERR_OOM;
    for (int i = 0; rgba && i < n; i++) {
      memcpy(rgba + 4 * i, rgb + 3 * i, 3);
      rgba[4 * i + 3] = 255;
    }
    *out_rgba = rgba;
    *out_width = params->width;
    *out_height = params->height;
  }
  free(rgb);
  free(pc.rgba);
  pthread_mutex_unlock(&np->lock);
  return s;
}
