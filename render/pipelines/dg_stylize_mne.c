#include "dg_stylize_mne.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_elementwise.h"
#include "dg_layout.h"
#include "dg_memory.h"
#include "dg_mne.h"
#include "dg_model_config.h"
#include "dg_model_util.h"
#include "dg_resample.h"
#include "dg_stylegan2.h"

struct dg_stylize_mne {
  char *encoder_path, *generator_path;
  dg_arena *weights;
  dg_weights *ew, *gw;
  dg_mne enc;
  dg_stylegan2 gen;
  int noise_index; // the generator's noise input of the encoder's block's conv0 (conv1 is the next)
};

static dg_status open_store(const char *path, dg_weights **w, dg_model_config *cfg) {
  DG_TRY(dg_weights_open(path, w));
  return dg_model_config_load(path, *w, cfg);
}

// The encoder against the generator: ws, noise block, image size.
static dg_status check_fit(dg_stylize_mne *m) {
  const dg_mne *e = &m->enc;
  const dg_stylegan2 *g = &m->gen;
  const char *ep = m->encoder_path, *gp = m->generator_path;
  if (e->num_ws != g->num_ws || e->w_dim != g->w_dim)
    return dg_fail(DG_ERR_FORMAT, "stylize mne: %s gives %d ws of %d, the generator %s takes %d of %d", ep, e->num_ws,
                   e->w_dim, gp, g->num_ws, g->w_dim);
  if (e->height != g->height || e->width != g->width)
    return dg_fail(DG_ERR_FORMAT, "stylize mne: %s encodes %dx%d images, %s makes %dx%d", ep, e->width, e->height, gp,
                   g->width, g->height);
  if (!e->has_noise) return DG_OK; // W+ only: the generator's own noise
  for (int b = 1; b < g->n_blocks; b++)
    if (g->blocks[b].res == e->noise_res) {
      if (g->blocks[b].out != e->noise_channels)
        return dg_fail(DG_ERR_FORMAT, "stylize mne: %s predicts %d-channel noise for block b%d of %s, which has %d",
                       ep, e->noise_channels, e->noise_res, gp, g->blocks[b].out);
      m->noise_index = 2 * b - 1;
      return DG_OK;
    }
  return dg_fail(DG_ERR_FORMAT, "stylize mne: %s predicts noise for block b%d, which %s lacks", ep, e->noise_res, gp);
}

dg_status dg_stylize_mne_open(dg_device *device, const char *encoder, const char *generator, dg_stylize_mne **out) {
  *out = NULL;
  dg_stylize_mne *m = calloc(1, sizeof *m);
  if (!m) return dg_memory_fail("the mne models", sizeof *m);
  m->encoder_path = strdup(encoder), m->generator_path = strdup(generator);
  dg_model_config ec = {0}, gc = {0};
  dg_status s = m->encoder_path && m->generator_path ? DG_OK : dg_fail(DG_ERR_OOM, "out of host memory");
  if (s == DG_OK) s = dg_arena_create(device, 0, &m->weights);
  if (s == DG_OK) s = open_store(encoder, &m->ew, &ec);
  if (s == DG_OK) s = dg_mne_load(&(dg_nn_src){m->ew, m->weights, DG_F32}, &ec, &m->enc);
  if (s == DG_OK) s = open_store(generator, &m->gw, &gc);
  if (s == DG_OK) s = dg_stylegan2_load(&(dg_nn_src){m->gw, m->weights, DG_F32}, &gc, &m->gen);
  if (s == DG_OK) s = check_fit(m);
  dg_model_config_free(&ec);
  dg_model_config_free(&gc);
  if (s != DG_OK) {
    dg_stylize_mne_close(m);
    return s;
  }
  *out = m;
  return DG_OK;
}

void dg_stylize_mne_close(dg_stylize_mne *m) {
  if (!m) return;
  dg_weights_close(m->ew);
  dg_weights_close(m->gw);
  dg_arena_destroy(m->weights);
  free(m->encoder_path);
  free(m->generator_path);
  free(m);
}

bool dg_stylize_mne_is(const dg_stylize_mne *m, const char *encoder, const char *generator) {
  return m && !strcmp(m->encoder_path, encoder) && !strcmp(m->generator_path, generator);
}

// images[i] (RGB8 of any size) resized into item i of batch [n, 3, H, W] in [-1, 1].
static dg_status put_image(const dg_nn_ctx *nn, const dg_media *img, dg_tensor *batch, int i) {
  dg_tensor src, dst;
  const uint8_t *rgb = img->data;
  DG_TRY(dg_model_rgb_tensor(nn, &rgb, 1, img->width, img->height, &src));
  DG_TRY(dg_tensor_items(batch, i, 1, &dst));
  if (src.shape[2] == dst.shape[2] && src.shape[3] == dst.shape[3])
    return dg_unary(nn->s, DG_COPY, &src, &dst, 1.0f, 0.0f);
  return dg_resize_bilinear(nn->s, &src, false, &dst);
}

dg_status dg_stylize_mne_run(dg_stylize_mne *m, dg_stream *stream, dg_arena *arena, const dg_media *content,
                             const dg_media *const *styles, int n_styles, float strength, dg_media *out) {
  if (n_styles < 1 || n_styles > DG_STYLIZE_MAX_STYLES)
    return dg_fail(DG_ERR_ARG, "stylize mne: %d style images (1 to %d)", n_styles, DG_STYLIZE_MAX_STYLES);
  dg_nn_ctx nn = {.s = stream, .scratch = arena, .dtype = DG_F32};
  const dg_mne *e = &m->enc;
  int64_t bs[4] = {1 + n_styles, 3, e->height, e->width};
  dg_tensor batch, ws, noise[2], wc, wst[DG_STYLIZE_MAX_STYLES], mixed, img;
  DG_TRY(dg_nn_alloc(&nn, 4, bs, &batch));
  DG_TRY(put_image(&nn, content, &batch, 0));
  for (int i = 0; i < n_styles; i++)
    DG_TRY(put_image(&nn, styles[i], &batch, i + 1));
  DG_TRY(dg_mne_encode(&nn, e, &batch, &ws, noise));
  const dg_tensor *sp[DG_STYLIZE_MAX_STYLES], *np[DG_SG_MAX_NOISE] = {0};
  DG_TRY(dg_tensor_items(&ws, 0, 1, &wc));
  for (int i = 0; i < n_styles; i++) {
    DG_TRY(dg_tensor_items(&ws, i + 1, 1, &wst[i]));
    sp[i] = &wst[i];
  }
  dg_tensor nc[2];
  for (int k = 0; e->has_noise && k < 2; k++) { // the content's maps
    DG_TRY(dg_tensor_items(&noise[k], 0, 1, &nc[k]));
    np[m->noise_index + k] = &nc[k];
  }
  DG_TRY(dg_stylegan2_mix(&nn, &m->gen, &wc, sp, n_styles, strength, &mixed));
  DG_TRY(dg_stylegan2_synthesis(&nn, &m->gen, &mixed, np, DG_SG_NOISE_CONST, &img));
  int w = content->width, h = content->height;
  if (img.shape[2] != h || img.shape[3] != w) {
    int64_t rs[4] = {1, 3, h, w};
    dg_tensor r;
    DG_TRY(dg_nn_alloc(&nn, 4, rs, &r));
    DG_TRY(dg_resize_bilinear(stream, &img, false, &r));
    img = r;
  }
  DG_TRY(dg_stream_finish(stream));
  size_t n = (size_t)w * (size_t)h;
  float *planes = dg_memory_alloc("the stylized planes", 3 * n * sizeof *planes);
  if (!planes) return DG_ERR_OOM;
  dg_status s = dg_tensor_read_f32(&img, planes);
  if (s == DG_OK) s = dg_media_alloc(out, 1, w, h, 3);
  for (size_t i = 0; s == DG_OK && i < n; i++)
    for (int c = 0; c < 3; c++) { // [-1, 1] -> 0..255, as the trainers' images
      float v = roundf((planes[(size_t)c * n + i] + 1.0f) * 127.5f);
      out->data[3 * i + (size_t)c] = (uint8_t)(v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v);
    }
  free(planes);
  return s;
}
