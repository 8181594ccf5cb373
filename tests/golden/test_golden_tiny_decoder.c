// The live frame's tiny decoder against the `tiny_decoder/` fixtures (tools/train/dgtrain/
// make_fixtures_tiny_decoder.py: a small random decoder with the engine's names): widths and blocks from the
// shapes, the decode of a batch of 2 latents, f32 and f16 storage; the loader's errors for a missing and a
// mis-shaped tensor, and the latent shape check.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_test.h"
#include "dg_tiny_decoder.h"
#include "golden_util.h"

static void run(dg_dtype dt, const dg_weights *w, dg_safetensors *st) {
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_nn_src src = {w, T.arena, dt};
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = dt};
  dg_tiny_decoder *d = calloc(1, sizeof *d);
  char what[64];
  snprintf(what, sizeof what, "tiny decoder %s", dg_dtype_name(dt));
  if (dg_test_ok(dg_tiny_decoder_load(&src, d), "tiny decoder load")) {
    dg_check(d->latent_channels == 4 && d->channels[0] == 16 && d->channels[1] == 12 && d->channels[2] == 8 &&
                 d->channels[3] == 8 && d->blocks[0] == 1 && d->blocks[1] == 2 && d->blocks[2] == 0 &&
                 d->blocks[3] == 1,
             "widths 16/12/8/8 and blocks 1/2/0/1 from the shapes");
    dg_tensor z = golden_tensor(st, "z", dt), img;
    if (dg_test_ok(dg_tiny_decoder_decode(&nn, d, &z, &img), what)) {
      dg_check(img.ndim == 4 && img.shape[0] == 2 && img.shape[1] == 3 && img.shape[2] == 32 && img.shape[3] == 64,
               "%s: image [2, 3, 32, 64]", what);
      golden_check(what, &img, st, "image", dt);
    }
    dg_tensor bad;
    dg_tensor_reshape(&z, 4, (int64_t[4]){2, 8, 2, 8}, &bad);
    dg_status s = dg_tiny_decoder_decode(&nn, d, &bad, &img);
    dg_check(s == DG_ERR_ARG && strstr(dg_last_error(), "[2, 8, 2, 8] must be [N, 4, h, w]"), "latent shape error: %s",
             dg_last_error());
    dg_check(dg_tiny_decoder_fits(&nn, d, 1, 16, 32), "a 16x32 latent fits one binding");
  }
  free(d);
  dg_arena_release(T.arena, mark);
}

// Stores with a tensor left out or mis-shaped fail naming it (and the shapes).
static void bad_checkpoint(const char *file, const char *want) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", golden_dir, file);
  dg_weights *w = NULL;
  if (!dg_test_ok(dg_weights_open(path, &w), file)) return;
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_nn_src src = {w, T.arena, DG_F32};
  dg_tiny_decoder *d = calloc(1, sizeof *d);
  dg_status s = dg_tiny_decoder_load(&src, d);
  dg_check(s == DG_ERR_FORMAT && strstr(dg_last_error(), want) && strstr(dg_last_error(), file),
           "%s: status %d, error '%s', expected '%s'", file, s, dg_last_error(), want);
  free(d);
  dg_arena_release(T.arena, mark);
  dg_weights_close(w);
}

int main(int argc, char **argv) {
  golden_init(argc, argv, "test_tiny_decoder");
  dg_weights *w = golden_weights("weights.safetensors");
  dg_safetensors *st = golden_open("fixture.safetensors");
  if (w && st) {
    run(DG_F32, w, st);
    run(DG_F16, w, st);
    bad_checkpoint("bad_missing.safetensors", "missing tensor 'tiny_decoder.level.1.block.1.conv2.bias'");
    bad_checkpoint("bad_shape.safetensors",
                   "tensor 'tiny_decoder.up.1.weight' has shape [8, 10, 3, 3], the model expects [8, 12, 3, 3]");
  }
  if (w) dg_weights_close(w);
  dg_safetensors_close(st);
  return dg_test_finish();
}
