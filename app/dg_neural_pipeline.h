// The neural pipeline behind editor jobs: dg_generate (render/pipelines) on the model a job names
// (a dg_model_choice: "default" or a path). The last model set stays loaded for the next job; the
// Vulkan device is opened on the first job, on the worker thread.
#pragma once
#include "dg_job.h"

typedef struct dg_neural_pipeline dg_neural_pipeline;

// tokenizer_dir: used when a model brings no tokenizer of its own; palette_json: the class palette for
// colour-hint ControlNets. Both may be NULL.
dg_neural_pipeline *dg_neural_pipeline_new(const char *tokenizer_dir, const char *palette_json);
void dg_neural_pipeline_free(dg_neural_pipeline *np);
// Per-step previews on (the default) or off; off measures what they cost (dirigent-bench-preview).
void dg_neural_pipeline_set_previews(dg_neural_pipeline *np, bool on);
// A dg_pipeline_fn; user is the dg_neural_pipeline.
dg_status dg_neural_pipeline_run(dg_job *job, const dg_job_params *params, void *user, int *out_width,
                                 int *out_height, uint8_t **out_rgba);
