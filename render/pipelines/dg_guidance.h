// Attention guidance of the first denoising steps (docs/methods.md §3): Divide & Bind and its
// baseline Attend-and-Excite move the latent along -d loss / d z, where the loss reads the marked
// objects' (and bound attributes') aggregated cross-attention maps (dg_attn_maps) of a cond-only,
// batch-1 UNet pass whose gradient the engine computes (dg_unet_attention_grad).
//
// Schedule, as the methods run it on 50 PNDM steps and scaled to the run's evaluations E: the update
// before each evaluation i < E/2 (max_iter_to_alter 25 of 50), step size 20 sqrt(linspace(1, 0.5, E)[i]);
// iterative refinement before evaluations round(E/5) and round(2E/5) and 0 (the methods' 0/10/20 of 50)
// while the indicator misses its threshold (D&B: min over objects of the TV, thresholds 0.05/0.2/0.3;
// A&E: loss > 1 - thr, thresholds 0.05/0.5/0.8), at most cap iterations (D&B 50 at 0, else 20; A&E 20;
// scaled by E/50, at least 1).
#pragma once
#include <stdint.h>

#include "dg_marks.h"
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
