// The runner behind editor jobs: runs a job's task pipeline (render/pipelines: dg_generate for an
// image now; video and stylize later) on the model a job names (a dg_model_choice: "default" or a
// path), and hands back its media. The last model set stays loaded for the next job, with the text
// encodings of its recent prompts and the ControlNet hints of its recent layouts (dg_generate_cache): a
// job whose prompt, negative prompt or layout did not change skips that work. The Vulkan device is
// opened on the first job, on the worker thread. A set opens without its video UNet, which loads at the
// set's first video job and stays.
#pragma once
#include "dg_generate_cache.h"
#include "dg_job.h"

typedef struct dg_runner dg_runner;

// tokenizer_dir: used when a model brings no tokenizer of its own; palette_json: the class palette for
// colour-hint ControlNets until a job names its own (dg_job_params.palette: its colours, and its class
// names for an ALDM ControlNet without a stored class table). Both may be NULL.
dg_runner *dg_runner_new(const char *tokenizer_dir, const char *palette_json);
void dg_runner_free(dg_runner *r);
// Per-step previews on (the default) or off; off measures what they cost (dirigent-bench-preview).
void dg_runner_set_previews(dg_runner *r, bool on);
// How many times a video UNet was loaded (at the first video job of each model set; image jobs load none).
// Lock-free: readable while a job runs.
int dg_runner_video_loads(dg_runner *r);
// What the cache saved so far (text encodings run and reused, hints built and reused).
void dg_runner_cache_stats(dg_runner *r, dg_generate_cache_stats *out);
// Whether the loaded model has a tiny decoder (live frames then decode with it); false before a model loads.
bool dg_runner_has_tiny_decoder(dg_runner *r);
// A dg_job_fn; user is the dg_runner. An image job, or a video job (params->timeline) through dg_video:
// the timeline's stages, VSP and TAR, the layout on every frame when kept, previews of the frame at the
// job's playhead (dg_job_preview_frame), the temporal attention matrix (dg_job_take_video).
dg_status dg_runner_run(dg_job *job, const dg_job_params *params, void *user, dg_media *out);
