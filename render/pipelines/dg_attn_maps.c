#include "dg_attn_maps.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_attention.h"

void dg_attn_maps_kernel(float sigma, float k[3]) {
  float sum = 0;
  for (int i = 0; i < 3; i++) {
    float x = (float)(i - 1) / (2.0f * sigma);
    k[i] = expf(-x * x);
    sum += k[i];
  }
  for (int i = 0; i < 3; i++)
    k[i] /= sum;
}

// A side of 1 repeats its pixel.
int dg_attn_maps_reflect(int i, int n) {
  if (n == 1) return 0;
  return i < 0 ? -i : i >= n ? 2 * n - 2 - i : i;
}

void dg_attn_maps_smooth(const float *in, int h, int w, const float k[3], float *out) {
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      double acc = 0;
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++)
          acc += (double)k[dy + 1] * k[dx + 1] *
                 in[dg_attn_maps_reflect(y + dy, h) * w + dg_attn_maps_reflect(x + dx, w)];
      out[y * w + x] = (float)acc;
    }
}

void dg_attn_maps_normalize(const float *avg, int h, int w, int n, float *maps) {
  int hw = h * w;
  float *soft = malloc((size_t)n * hw * sizeof *soft);
  if (!soft) {
    memset(maps, 0, (size_t)n * hw * sizeof *maps);
    return;
  }
  for (int p = 0; p < hw; p++) {
    const float *row = avg + (size_t)p * n;
    float mx = row[0];
    for (int j = 1; j < n; j++)
      mx = row[j] > mx ? row[j] : mx;
    double sum = 0;
    for (int j = 0; j < n; j++)
      sum += exp(100.0 * ((double)row[j] - mx));
    for (int j = 0; j < n; j++)
      soft[(size_t)j * hw + p] = (float)(exp(100.0 * ((double)row[j] - mx)) / sum);
  }
  float k[3];
  dg_attn_maps_kernel(0.5f, k);
  for (int j = 0; j < n; j++)
    dg_attn_maps_smooth(soft + (size_t)j * hw, h, w, k, maps + (size_t)j * hw);
  free(soft);
}

#define MAX_LAYERS 64

typedef struct layer_info {
  int ds, heads[DG_NN_MAX_DEPTH];
} layer_info;

// ds and heads of each transformer, by walking the blocks in forward order as the UNet runs them.
static int walk(const dg_unet *u, layer_info *info) {
  int n = 0, ds = 1;
#define NOTE(t)                                                                                                        \
  do {                                                                                                                 \
    if ((t).index >= 0 && (t).index < MAX_LAYERS) {                                                                    \
      info[(t).index].ds = ds;                                                                                         \
      for (int d = 0; d < (t).depth && d < DG_NN_MAX_DEPTH; d++)                                                       \
        info[(t).index].heads[d] = (t).blocks[d].attn2.heads;                                                          \
      n = (t).index + 1 > n ? (t).index + 1 : n;                                                                       \
    }                                                                                                                  \
  } while (0)
  for (int i = 0; i < u->enc.n_input; i++) {
    const dg_unet_block *b = &u->enc.input[i];
    if (i > 0 && b->has_conv) ds *= 2;
    if (b->has_attn) NOTE(b->attn);
  }
  if (u->enc.middle.has_attn) NOTE(u->enc.middle.attn);
  for (int i = 0; i < u->n_output; i++) {
    const dg_unet_block *b = &u->output[i];
    if (b->has_attn) NOTE(b->attn);
    if (b->has_up) ds /= 2;
  }
#undef NOTE
  return n;
}

dg_status dg_attn_maps_select(const dg_unet *u, int lh, int lw, int *ds, int *mh, int *mw, uint64_t *layers) {
  layer_info info[MAX_LAYERS] = {0};
  int n = walk(u, info), best = 0, coarsest = 0, side = lh < lw ? lh : lw;
  for (int i = 0; i < n; i++) {
    int d = info[i].ds;
    if (!d) continue;
    coarsest = d > coarsest ? d : coarsest;
    if (side / d <= DG_ATTN_MAPS_SIDE && (!best || d < best)) best = d;
  }
  if (!coarsest) return dg_fail(DG_ERR_UNSUPPORTED, "attention maps: the UNet has no cross-attention");
  if (!best) best = coarsest;
  *ds = best, *mh = lh / best, *mw = lw / best, *layers = 0;
  for (int i = 0; i < n; i++)
    if (info[i].ds == best) *layers |= 1ull << i;
  return DG_OK;
}

uint64_t dg_attn_maps_finer(const dg_unet *u, int ds) {
  layer_info info[MAX_LAYERS] = {0};
  int n = walk(u, info);
  uint64_t layers = 0;
  for (int i = 0; i < n; i++)
    if (info[i].ds && info[i].ds < ds) layers |= 1ull << i;
  return layers;
}

struct dg_attn_maps {
  dg_stream *s;
  layer_info info[MAX_LAYERS];
  int ds, mh, mw, n_tokens, count; // count: head maps summed since the last take
  double *sum;  // [mh*mw, n_tokens]
  float *probs; // one capture, host copy
  size_t probs_cap;
  dg_nn_attn_capture cap;
};

static dg_status on_probs(void *user, int layer, int block, int64_t h, int64_t w, const dg_tensor *probs) {
  dg_attn_maps *m = user;
  if (h != m->mh || w != m->mw || layer < 0 || layer >= MAX_LAYERS || block < 0 || block >= DG_NN_MAX_DEPTH)
    return dg_fail(DG_ERR_ARG, "attention maps: transformer %d gives %lldx%lld maps, expected %dx%d", layer,
                   (long long)h, (long long)w, m->mh, m->mw);
  int heads = m->info[layer].heads[block];
  int64_t rows = probs->shape[0], hw = h * w, n = m->n_tokens;
  if (probs->ndim != 3 || heads < 1 || rows % heads || probs->shape[1] != hw || probs->shape[2] != n)
    return dg_fail(DG_ERR_ARG, "attention maps: unexpected probabilities at transformer %d", layer);
  size_t need = (size_t)(rows * hw * n);
  if (need > m->probs_cap) {
    float *p = realloc(m->probs, need * sizeof *p);
    if (!p) return dg_fail(DG_ERR_OOM, "attention maps: out of memory for %zu probabilities", need);
    m->probs = p, m->probs_cap = need;
  }
  DG_TRY(dg_stream_finish(m->s)); // the layer reuses probs once it goes on
  DG_TRY(dg_tensor_read_f32(probs, m->probs));
  // the cond item is the batch's last: rows (items - 1) * heads .. items * heads - 1
  const float *cond = m->probs + (size_t)(rows - heads) * hw * n;
  for (int64_t i = 0; i < heads * hw * n; i++)
    m->sum[i % (hw * n)] += cond[i];
  m->count += heads;
  return DG_OK;
}

dg_status dg_attn_maps_new(dg_stream *s, const dg_unet *u, int lh, int lw, int n_tokens, dg_attn_maps **out) {
  *out = NULL;
  if (n_tokens < 1) return dg_fail(DG_ERR_ARG, "attention maps: the prompt has %d tokens (at least 1)", n_tokens);
  dg_attn_maps *m = calloc(1, sizeof *m);
  if (!m) return dg_fail(DG_ERR_OOM, "attention maps: out of memory");
  m->s = s;
  walk(u, m->info);
  uint64_t layers;
  dg_status st = dg_attn_maps_select(u, lh, lw, &m->ds, &m->mh, &m->mw, &layers);
  if (st != DG_OK) return free(m), st;
  m->n_tokens = n_tokens;
  m->sum = calloc((size_t)m->mh * m->mw * n_tokens, sizeof *m->sum);
  if (!m->sum) return free(m), dg_fail(DG_ERR_OOM, "attention maps: out of memory");
  m->cap = (dg_nn_attn_capture){.first_token = 1, .n_tokens = n_tokens, .layers = layers, .fn = on_probs, .user = m};
  *out = m;
  return DG_OK;
}

void dg_attn_maps_free(dg_attn_maps *m) {
  if (!m) return;
  free(m->sum), free(m->probs), free(m);
}

const dg_nn_attn_capture *dg_attn_maps_capture(dg_attn_maps *m) { return &m->cap; }

void dg_attn_maps_size(const dg_attn_maps *m, int *mh, int *mw) { *mh = m->mh, *mw = m->mw; }

int dg_attn_maps_n_tokens(const dg_attn_maps *m) { return m->n_tokens; }

dg_status dg_attn_maps_take(dg_attn_maps *m, float *maps) {
  if (!m->count) return dg_fail(DG_ERR_ARG, "attention maps: nothing captured since the last maps");
  size_t n = (size_t)m->mh * m->mw * m->n_tokens;
  float *avg = malloc(n * sizeof *avg);
  if (!avg) return dg_fail(DG_ERR_OOM, "attention maps: out of memory");
  for (size_t i = 0; i < n; i++)
    avg[i] = (float)(m->sum[i] / m->count);
  dg_attn_maps_normalize(avg, m->mh, m->mw, m->n_tokens, maps);
  free(avg);
  memset(m->sum, 0, n * sizeof *m->sum);
  m->count = 0;
  return DG_OK;
}

void dg_attn_maps_word(const float *maps, int n, int hw, const int *tokens, int n_word_tokens, float *out) {
  memset(out, 0, (size_t)hw * sizeof *out);
  int used = 0;
  for (int i = 0; i < n_word_tokens; i++) {
    int t = tokens[i];
    if (t < 1 || t > n) continue;
    for (int p = 0; p < hw; p++)
      out[p] += maps[(size_t)(t - 1) * hw + p];
    used++;
  }
  for (int p = 0; used > 1 && p < hw; p++)
    out[p] /= (float)used;
}
