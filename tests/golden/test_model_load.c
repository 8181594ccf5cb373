// Every model loads from the SD-1.5-structured tiny checkpoints of tests/io/data in every layout (LDM
// single file, diffusers folder through the name maps, and the PyTorch .ckpt of ckpt/), with SD 1.5's block structure: 12 input
// and output blocks, upsamplers at output blocks 2, 5, 8, attention on the first three levels, 13
// ControlNet residuals with 8 hint convs, a 4-level VAE, a 2-layer CLIP. (Their 2-channel widths do
// not admit GroupNorm(32), so no forward pass runs here; the golden tests cover the arithmetic.)
#include <stdio.h>
#include <stdlib.h>

#include "dg_clip_text.h"
#include "dg_controlnet.h"
#include "dg_test.h"
#include "dg_unet.h"
#include "dg_vae.h"

static void check(const char *path, const char *what) {
  dg_weights *w = NULL;
  if (!dg_test_ok(dg_weights_open(path, &w), what)) return;
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_nn_src src = {w, T.arena, DG_F16};
  dg_unet *u = calloc(1, sizeof *u);
  dg_controlnet *c = calloc(1, sizeof *c);
  dg_vae *v = calloc(1, sizeof *v);
  dg_clip_text *t = calloc(1, sizeof *t);
  if (dg_test_ok(dg_unet_load(&src, (dg_unet_heads){1, 0}, u), "unet load")) {
    bool up_ok = true, attn_ok = true;
    for (int i = 0; i < u->n_output; i++) {
      up_ok &= u->output[i].has_up == (i == 2 || i == 5 || i == 8);
      attn_ok &= u->output[i].has_attn == (i >= 3);
    }
    for (int i = 0; i < u->enc.n_input; i++)
      attn_ok &= u->enc.input[i].has_attn == (i == 1 || i == 2 || i == 4 || i == 5 || i == 7 || i == 8);
    dg_check(u->enc.n_input == 12 && u->n_output == 12 && dg_unet_num_control(u) == 13 && up_ok && attn_ok &&
                 u->enc.middle.has_attn && u->output[11].res.has_skip && !u->enc.input[1].res.has_skip,
             "%s: UNet structure (%d input, %d output blocks)", what, u->enc.n_input, u->n_output);
  }
  if (dg_test_ok(dg_controlnet_load(&src, (dg_unet_heads){1, 0}, c), "controlnet load"))
    dg_check(dg_controlnet_num_outputs(c) == 13 && c->n_hint == 8 && !c->id_hint && c->hint[2].stride == 2 &&
                 c->hint[3].stride == 1 && c->hint[6].stride == 2,
             "%s: ControlNet structure (%d outputs, %d hint convs)", what, dg_controlnet_num_outputs(c), c->n_hint);
  if (dg_test_ok(dg_vae_load(&src, v), "vae load"))
    dg_check(v->has_encoder && v->has_decoder && v->cfg.num_levels == 4 && v->enc.level[0].has_resample &&
                 !v->enc.level[3].has_resample && !v->dec.level[0].has_resample && v->dec.level[3].has_resample &&
                 v->dec.level[0].n_block == 3 && v->enc.level[1].block[0].has_nin,
             "%s: VAE structure", what);
  if (dg_test_ok(dg_clip_text_load(&src, 2, t), "clip load"))
    dg_check(t->cfg.layers == 2 && t->cfg.width == 8 && t->position.shape[0] == 77, "%s: CLIP structure", what);
  printf("  %s: all four models loaded (%llu bytes of f16 weights)\n", what,
         (unsigned long long)(dg_arena_bytes_in_use(T.arena)));
  free(u);
  free(c);
  free(v);
  free(t);
  dg_arena_release(T.arena, mark);
  dg_weights_close(w);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : ".";
  dg_test_init("test_model_load");
  char path[1024];
  snprintf(path, sizeof path, "%s/sd15_tiny.safetensors", dir);
  check(path, "LDM single file");
  snprintf(path, sizeof path, "%s/sd15_tiny_diffusers", dir);
  check(path, "diffusers folder");
  // The same model from a PyTorch Lightning checkpoint written by torch.save (tests/io/data/ckpt).
  snprintf(path, sizeof path, "%s/ckpt/sd15_tiny.ckpt", dir);
  check(path, "PyTorch .ckpt");
  return dg_test_finish();
}
