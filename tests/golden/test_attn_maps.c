// Aggregated cross-attention maps (render/pipelines/dg_attn_maps):
// - the smoothing kernel and the token normalisation have the methods' numbers (docs/methods.md §3:
//   1-D [0.2119, 0.5761, 0.2119], 2-D centre 0.3319, edge 0.1221, corner 0.0449; reflect padding);
// - the resolution rule picks SD 1.5's five 16x16 transformers on 64x64 latents, the default model's
//   8x16 maps on 16x32 latents, and the tiny UNet's finest level;
// - the whole aggregation, captured on the tiny golden UNet, matches the PyTorch reference
//   (attn_maps.safetensors, tools/train/dgtrain/make_fixture_attn_maps.py), with eps left as it was.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_attn_maps.h"
#include "dg_test.h"
#include "golden_util.h"

static void test_kernel(void) {
  float k[3];
  dg_attn_maps_kernel(0.5f, k);
  dg_check(fabsf(k[0] - 0.2119f) < 1e-4f && fabsf(k[1] - 0.5761f) < 1e-4f && fabsf(k[2] - 0.2119f) < 1e-4f,
           "1-D kernel [%.4f, %.4f, %.4f]", k[0], k[1], k[2]);
  dg_check(fabsf(k[1] * k[1] - 0.3319f) < 1e-4f && fabsf(k[0] * k[1] - 0.1221f) < 1e-4f &&
               fabsf(k[0] * k[0] - 0.0449f) < 1e-4f,
           "2-D centre %.4f, edge %.4f, corner %.4f", k[1] * k[1], k[0] * k[1], k[0] * k[0]);
  // a unit impulse at the corner (0, 0) of a 3x4 map: reflect padding reads row/column 1 for -1 (not
  // the edge pixel again, as replicate padding would), so the corner keeps k1^2, its neighbours k0 k1
  // and the diagonal k0^2.
  float in[12] = {1}, out[12];
  dg_attn_maps_smooth(in, 3, 4, k, out);
  dg_check(fabsf(out[0] - k[1] * k[1]) < 1e-6f && fabsf(out[1] - k[0] * k[1]) < 1e-6f &&
               fabsf(out[4] - k[0] * k[1]) < 1e-6f && fabsf(out[5] - k[0] * k[0]) < 1e-6f && out[2] == 0,
           "impulse at a corner: %.4f %.4f / %.4f %.4f", out[0], out[1], out[4], out[5]);
  // a constant map stays constant (the kernel sums to 1, reflect padding)
  float c[12], cs[12];
  for (int i = 0; i < 12; i++)
    c[i] = 0.25f;
  dg_attn_maps_smooth(c, 3, 4, k, cs);
  bool flat = true;
  for (int i = 0; i < 12; i++)
    flat = flat && fabsf(cs[i] - 0.25f) < 1e-6f;
  dg_check(flat, "a constant map stays constant");
  // normalisation: softmax of 100 p over the tokens at each pixel (here one token leads by 0.01)
  float avg[2] = {0.30f, 0.29f}, maps[2];
  dg_attn_maps_normalize(avg, 1, 1, 2, maps);
  float want = 1.0f / (1.0f + expf(-1.0f));
  dg_check(fabsf(maps[0] - want) < 1e-5f && fabsf(maps[1] - (1 - want)) < 1e-5f, "softmax(100 p): %.5f %.5f",
           maps[0], maps[1]);
  float word[2], tmaps[4] = {1, 2, 3, 4};
  int toks[2] = {1, 2};
  dg_attn_maps_word(tmaps, 2, 2, toks, 2, word);
  dg_check(word[0] == 2 && word[1] == 3, "a word of two tokens: the mean of their maps");
}

// A UNet of `levels` levels with transformers at the levels in attn (bit per level), numbered as
// dg_unet_load numbers them; only what the selection reads.
static void fake_unet(dg_unet *u, int levels, int res_blocks, unsigned attn, bool mid) {
  memset(u, 0, sizeof *u);
  int n = 0, idx = 0;
  u->enc.input[n++].has_conv = true;
  for (int l = 0; l < levels; l++) {
    for (int r = 0; r < res_blocks; r++) {
      dg_unet_block *b = &u->enc.input[n++];
      b->has_res = true;
      if (attn >> l & 1) b->has_attn = true, b->attn.index = idx++, b->attn.depth = 1, b->attn.blocks[0].attn2.heads = 8;
    }
    if (l != levels - 1) u->enc.input[n++].has_conv = true;
  }
  u->enc.n_input = n;
  if (mid) u->enc.middle.has_attn = true, u->enc.middle.attn.index = idx++;
  n = 0;
  for (int l = levels - 1; l >= 0; l--)
    for (int r = 0; r <= res_blocks; r++) {
      dg_unet_block *b = &u->output[n++];
      b->has_res = true;
      if (attn >> l & 1) b->has_attn = true, b->attn.index = idx++;
      if (l && r == res_blocks) b->has_up = true;
    }
  u->n_output = n;
  u->n_attn = idx;
}

static void test_select(void) {
  dg_unet *u = malloc(sizeof *u);
  int ds, mh, mw;
  uint64_t layers;
  fake_unet(u, 4, 2, 0x7, true); // SD 1.5: attention at ds 1, 2, 4 and the middle (ds 8)
  dg_check_status(dg_attn_maps_select(u, 64, 64, &ds, &mh, &mw, &layers), "select SD 1.5");
  // down_blocks.2 (transformers 4, 5) and up_blocks.1 (7, 8, 9)
  dg_check(ds == 4 && mh == 16 && mw == 16 && layers == 0x3b0, "SD 1.5 512x512: ds %d, %dx%d, layers %#llx", ds, mh,
           mw, (unsigned long long)layers);
  fake_unet(u, 3, 1, 0x6, true); // the default model: attention at ds 2 and 4 and the middle
  dg_check_status(dg_attn_maps_select(u, 16, 32, &ds, &mh, &mw, &layers), "select default");
  // input level 1 (transformer 0) and output level 1 (5, 6)
  dg_check(ds == 2 && mh == 8 && mw == 16 && layers == 0x61, "default 128x256: ds %d, %dx%d, layers %#llx", ds, mh,
           mw, (unsigned long long)layers);
  fake_unet(u, 2, 1, 0x2, false); // attention only where the maps are larger than 16: the coarsest
  dg_check_status(dg_attn_maps_select(u, 64, 64, &ds, &mh, &mw, &layers), "select coarse");
  dg_check(ds == 2 && mh == 32, "no level at 16 or less: the coarsest (ds %d)", ds);
  fake_unet(u, 2, 1, 0, false);
  dg_check_error(dg_attn_maps_select(u, 8, 8, &ds, &mh, &mw, &layers), DG_ERR_UNSUPPORTED, "no cross-attention",
                 "no transformer");
  free(u);
}

static void test_golden(const dg_unet *u) {
  dg_safetensors *st = golden_open("attn_maps.safetensors");
  if (!st) return;
  dg_tensor x = golden_tensor(st, "x", DG_F32), ctx = golden_tensor(st, "context", DG_F32);
  int64_t nt;
  float *t = golden_read(st, "t", &nt), *kernel = golden_read(st, "kernel", &nt);
  float k[3];
  dg_attn_maps_kernel(0.5f, k);
  double kerr = 0;
  for (int i = 0; i < 9; i++)
    kerr = fmax(kerr, fabs(kernel[i] - k[i / 3] * k[i % 3]));
  dg_check(kerr < 1e-6, "the kernel equals A&E's GaussianSmoothing (error %.2g)", kerr);
  // the host aggregation of the reference's averaged probabilities
  int64_t na;
  float *avg = golden_read(st, "avg", &na), maps[5 * 8 * 16];
  dg_attn_maps_normalize(avg, 8, 16, 5, maps);
  golden_check_host("normalise + smooth (reference probabilities)", maps, st, "maps", 1e-5);
  // the whole path: capture on the UNet, cond item, 3 transformers x 2 heads
  dg_attn_maps *am = NULL;
  if (dg_test_ok(dg_attn_maps_new(T.stream, u, 8, 16, 5, &am), "collector")) {
    int mh, mw;
    dg_attn_maps_size(am, &mh, &mw);
    dg_check(mh == 8 && mw == 16 && dg_attn_maps_capture(am)->layers == 0x61,
             "tiny UNet: %dx%d maps from transformers %#llx (input level 0, output level 0)", mh, mw,
             (unsigned long long)dg_attn_maps_capture(am)->layers);
    dg_check_error(dg_attn_maps_take(am, maps), DG_ERR_ARG, "nothing captured", "take before a capture");
    dg_nn_hooks hooks = {.attn_capture = dg_attn_maps_capture(am)};
    dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = DG_F32, .hooks = &hooks};
    dg_arena_mark mark = dg_arena_get_mark(T.arena);
    dg_tensor eps;
    dg_status s = dg_unet_forward(&nn, u, &x, t, &ctx, NULL, &eps);
    if (s == DG_OK) s = dg_stream_finish(T.stream);
    dg_safetensors *ref = golden_open("unet.safetensors");
    if (dg_test_ok(s, "unet forward with capture") && ref) {
      golden_check("eps with the capture hook", &eps, ref, "eps", DG_F32);
      if (dg_test_ok(dg_attn_maps_take(am, maps), "take")) golden_check_host("captured maps", maps, st, "maps", 1e-4);
    }
    if (ref) dg_safetensors_close(ref);
    dg_arena_release(T.arena, mark);
    dg_attn_maps_free(am);
  }
  dg_check_error(dg_attn_maps_new(T.stream, u, 8, 16, 0, &am), DG_ERR_ARG, "0 tokens", "a prompt of no tokens");
  // past the 16 a capture once took: a range of the context, however long the prompt
  if (dg_test_ok(dg_attn_maps_new(T.stream, u, 8, 16, 20, &am), "a prompt of 20 tokens")) {
    dg_check(dg_attn_maps_capture(am)->first_token == 1 && dg_attn_maps_capture(am)->n_tokens == 20,
             "20 tokens: context positions 1..20");
    dg_attn_maps_free(am);
  }
  free(avg), free(t), free(kernel);
  dg_safetensors_close(st);
}

int main(int argc, char **argv) {
  golden_init(argc, argv, "test_attn_maps");
  test_kernel();
  test_select();
  dg_weights *w = golden_weights("unet_weights.safetensors");
  dg_unet *u = calloc(1, sizeof *u);
  dg_nn_src src = {w, T.arena, DG_F32};
  if (w && dg_test_ok(dg_unet_load(&src, (dg_unet_heads){2, 0}, u), "unet load")) test_golden(u);
  free(u);
  if (w) dg_weights_close(w);
  return dg_test_finish();
}
