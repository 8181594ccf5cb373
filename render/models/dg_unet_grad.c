#include "dg_unet_grad.h"

#include <stdlib.h>
#include <string.h>

#include "dg_memory.h"

#define MAX_CAPTURES 64

typedef struct capture {
  int layer, block;
  int64_t h, w;
  dg_tensor probs;
} capture;

typedef struct captures {
  capture c[MAX_CAPTURES];
  int n;
} captures;

static dg_status keep(void *user, int layer, int block, int64_t h, int64_t w, const dg_tensor *probs) {
  captures *cs = user;
  if (cs->n == MAX_CAPTURES)
    return dg_fail(DG_ERR_UNSUPPORTED, "unet grad: more than %d captured cross-attentions", MAX_CAPTURES);
  cs->c[cs->n++] = (capture){layer, block, h, w, *probs};
  return DG_OK;
}

// Asks the loss for d loss / d probs of every capture (all at once) and seeds them.
static dg_status seed(dg_tape *tape, dg_stream *s, const captures *cs, const dg_unet_attn_grad_args *a) {
  dg_unet_attn_probs ps[MAX_CAPTURES];
  dg_status st = DG_OK;
  int64_t total = 0;
  for (int i = 0; i < cs->n; i++)
    total += dg_tensor_numel(&cs->c[i].probs);
  float *p = malloc((size_t)total * sizeof *p), *g = calloc((size_t)total, sizeof *g);
  if (!p || !g) st = dg_memory_fail("captured attention probabilities", 2 * (uint64_t)total * sizeof *p);
  for (int i = 0, at = 0; i < cs->n && st == DG_OK; i++) {
    const capture *c = &cs->c[i];
    st = dg_tensor_read_f32(&c->probs, p + at);
    ps[i] = (dg_unet_attn_probs){c->layer, c->block, c->h, c->w, c->probs.shape[0], (int)c->probs.shape[2], p + at,
                                 g + at};
    at += (int)dg_tensor_numel(&c->probs);
  }
  if (st == DG_OK) st = a->loss(a->user, cs->n, ps);
  for (int i = 0; i < cs->n && st == DG_OK; i++) {
    const capture *c = &cs->c[i];
    dg_tensor gt;
    st = dg_tape_alloc(tape, c->probs.dtype, c->probs.ndim, c->probs.shape, &gt);
    if (st == DG_OK) st = dg_tensor_write_f32(&gt, ps[i].dprobs); // fresh tape memory: no recorded work uses it
    if (st == DG_OK) st = dg_tape_accumulate(tape, s, &c->probs, &gt, true);
  }
  free(p);
  free(g);
  return st;
}

dg_status dg_unet_attention_grad(const dg_nn_ctx *nn, dg_tape *tape, const dg_unet *u, const float *z,
                                 const int64_t zshape[4], const float *t, const dg_tensor *context,
                                 const dg_unet_attn_grad_args *args, float *dz, dg_unet_grad_stats *stats) {
  if (dg_nn_frames(nn) != 1) return dg_fail(DG_ERR_UNSUPPORTED, "unet grad: latents of %d frames", dg_nn_frames(nn));
  if (!args->loss || args->n_tokens < 1 || args->first_token < 0 || !args->layers)
    return dg_fail(DG_ERR_ARG, "unet grad: needs a loss, tokens from position 0 on (got %d from %d) and at least "
                   "one layer", args->n_tokens, args->first_token);
  dg_tape *own = NULL;
  if (!tape) {
    DG_TRY(dg_tape_create(dg_arena_device(nn->scratch), &own));
    tape = own;
  }
  captures *cs = calloc(1, sizeof *cs);
  if (!cs) {
    dg_tape_free(own);
    return dg_memory_fail("the capture list", sizeof *cs);
  }
  dg_nn_attn_capture cap = {.first_token = args->first_token, .n_tokens = args->n_tokens, .layers = args->layers, .fn = keep,
                            .user = cs};
  dg_nn_hooks hooks = nn->hooks ? *nn->hooks : (dg_nn_hooks){0};
  hooks.attn_capture = &cap;
  hooks.tape = tape;
  dg_nn_ctx g = *nn;
  g.hooks = &hooks;
  dg_arena_mark mark = dg_arena_get_mark(nn->scratch);
  dg_tape_reset(tape);
  dg_tensor zt, eps;
  int64_t numel = zshape[0] * zshape[1] * zshape[2] * zshape[3];
  uint64_t d0 = dg_stream_dispatch_count(nn->s), d1 = d0;
  dg_status st = dg_nn_alloc(nn, 4, zshape, &zt);
  if (st == DG_OK) st = dg_stream_finish(nn->s); // scratch may back recorded work
  if (st == DG_OK) st = dg_tensor_write_f32(&zt, z);
  if (st == DG_OK) st = dg_tape_watch(tape, &zt);
  if (st == DG_OK) st = dg_unet_forward(&g, u, &zt, t, context, args->control, &eps);
  if (st == DG_OK) st = dg_stream_finish(nn->s);
  d1 = dg_stream_dispatch_count(nn->s);
  if (st == DG_OK) st = seed(tape, nn->s, cs, args);
  if (st == DG_OK) st = dg_tape_backward(tape, nn->s);
  if (st == DG_OK) st = dg_stream_finish(nn->s);
  if (st == DG_OK) {
    const dg_tensor *gz = dg_tape_grad(tape, &zt);
    if (gz) st = dg_tensor_read_f32(gz, dz);
    else memset(dz, 0, (size_t)numel * sizeof *dz); // the loss does not depend on z
  }
  if (stats)
    *stats = (dg_unet_grad_stats){d1 - d0, dg_stream_dispatch_count(nn->s) - d1, dg_tape_entries(tape), cs->n};
  dg_stream_finish(nn->s); // on an error, work may still be in flight
  dg_tape_reset(tape);
  dg_arena_release(nn->scratch, mark);
  dg_tape_free(own);
  free(cs);
  return st;
}
