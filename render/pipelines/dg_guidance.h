// Attention guidance of the first denoising steps (docs/methods.md §3): Divide & Bind and its
// baseline Attend-and-Excite move the latent along -d loss / d z, where the loss reads the marked
// objects' (and bound attributes') aggregated cross-attention maps (dg_attn_maps) of a cond-only,
// batch-1 UNet pass whose gradient the engine computes (dg_unet_attention_grad).
//
// Schedule, as the methods run it on 50 PNDM steps and scaled to the run's evaluations E: the update
// before each evaluation i < E/2 (max_iter_to_alter 25 of 50), step size 20 sqrt(linspace(1, 0.5, E)[i]);
// iterative refinement before evaluations round(E/5) and round(2E/5) and 0 (the methods' 0/10/20 of 50)
// while the indicator misses its threshold (D&B: min over objects of the TV, thresholds 0.05/0.2/0.3;
// A&E: loss > 1 - thr, thresholds 0.05/0.5/0.8), at most cap iterations (20, scaled by E/51, at least 1;
// the D&B reference allows 50 at 0, which broke the 3x cost limit on this CPU), and no further once an
// iteration closes less than 1% of the gap to the threshold.
#pragma once
#include <stdint.h>

#include "dg_marks.h"
#include "dg_nn.h"
#include "dg_status.h"

typedef enum dg_guidance_kind {
  DG_GUIDANCE_NONE,          // plain sampling
  DG_GUIDANCE_ATTEND_EXCITE, // A&E: loss max over objects of (1 - max of the object's map)
  DG_GUIDANCE_DIVIDE_BIND,   // D&B: TV "divide" per object, JSD "bind" per bound attribute
} dg_guidance_kind;

// "none", "attend-excite", "divide-bind": the names the CLI, the PNG chunks, jobs and projects use.
const char *dg_guidance_name(dg_guidance_kind k);
// The kind named `name` (as above; NULL or "" is none). DG_ERR_ARG naming the value otherwise.
dg_status dg_guidance_parse(const char *name, dg_guidance_kind *out);

// What the guidance did in one run, for benchmarks and evaluations.
typedef struct dg_guidance_stats {
  int updates;            // latent updates (each one UNet forward + backward)
  int refinement_updates; // of them, those of iterative refinement
  double seconds;         // spent in the guidance (forward, backward, loss)
  float last_indicator;   // the indicator at the last update (D&B: min TV; A&E: max loss)
} dg_guidance_stats;

// The schedule for a run of `evaluations` model evaluations (the sampler's; PLMS 50 steps has 51).
typedef struct dg_guidance_schedule {
  int max_alter;        // updates before evaluations 0 .. max_alter - 1
  int refine_at[3];     // evaluations where iterative refinement may run
  float thresholds[3];  // the indicator those need
  int caps[3];          // refinement updates at most
  float coefs[3];       // D&B's bind weight from refine_at[k] on (1, 5, 10)
} dg_guidance_schedule;
void dg_guidance_schedule_for(dg_guidance_kind kind, int evaluations, dg_guidance_schedule *out);
// 20 sqrt(linspace(1, 0.5, evaluations)[i]).
float dg_guidance_step_size(int i, int evaluations);

// The guidance of one run, as dg_denoise's pre-step hook (dg_guidance_pre_step with the guidance as
// user). The gradient pass is the UNet on the cond context alone (batch 1); with a ControlNet its
// residuals enter as constants (computed at the current latent, no gradient through the ControlNet).
typedef struct dg_guidance dg_guidance;
struct dg_unet;
struct dg_controlnet;
typedef struct dg_guidance_setup {
  dg_guidance_kind kind; // not NONE
  const struct dg_unet *unet;
  const struct dg_controlnet *control; // NULL: none
  const dg_tensor *hint;               // the ControlNet's hint [1, ...] (raw, as dg_controlnet_hint takes it)
  float control_scale;
  const dg_tensor *cond; // [1, L, D]
  const dg_marks *marks; // at least one object
  int n_prompt_tokens;   // the prompt's tokens between its start and end tokens (1..16)
  int lh, lw;            // latent size
  int evaluations;       // the sampler's
} dg_guidance_setup;
// nn: stream, scratch (the hint's encoding and a reusable tape come from it: release it after
// dg_guidance_free) and dtype; no hooks are used. DG_ERR_ARG for an empty prompt or no object.
dg_status dg_guidance_new(const dg_nn_ctx *nn, const dg_guidance_setup *s, dg_guidance **out);
void dg_guidance_free(dg_guidance *g);
dg_status dg_guidance_pre_step(void *guidance, int step, int t, float *x);
void dg_guidance_get_stats(const dg_guidance *g, dg_guidance_stats *out);
