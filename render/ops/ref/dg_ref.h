// Plain-C reference implementations of the ops, in f32, used by the tests and benchmarks only.
// Each mirrors the op of the same name in render/ops (same argument order and layout).
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dg_elementwise.h"
#include "dg_reduce.h"

void dg_ref_binary(dg_binary_op op, const float *a, const float *b, int64_t n, int64_t b_inner, int64_t b_count,
                   float *out);
void dg_ref_unary(dg_unary_op op, const float *a, int64_t n, float alpha, float beta, float *out);
// x [rows, 2f] -> out [rows, f] = x[:, :f] * gelu(x[:, f:]).
void dg_ref_geglu(const float *x, int64_t rows, int64_t f, float *out);

// Norms (dg_norm.h): x is [n, c, hw] for group norm, [rows, len] otherwise; gamma/beta may be NULL.
void dg_ref_group_norm(const float *x, int64_t n, int64_t c, int64_t hw, int groups, const float *gamma,
                       const float *beta, float eps, bool silu, float *out);
void dg_ref_layer_norm(const float *x, int64_t rows, int64_t len, const float *gamma, const float *beta, float eps,
                       float *out);
void dg_ref_softmax(const float *x, int64_t rows, int64_t len, float scale, float *out);

// Attention (dg_attention.h): q/out [n, lq, heads*d], k/v [n, lk, heads*d]; bias NULL, [lq, lk] or
// [n*heads, lq, lk]; probs [n*heads, lq, n_chosen] when n_chosen > 0.
void dg_ref_attention(const float *q, const float *k, const float *v, int64_t n, int64_t lq, int64_t lk, int heads,
                      int64_t d, float scale, const float *bias, bool bias_per_batch, bool causal, const int *chosen,
                      int n_chosen, float *probs, float *out);

// Resampling (dg_resample.h) of [planes, h, w]: mode 0 nearest 2x upsample, 1 avg pool k, 2 x[::k, ::k].
void dg_ref_resample(int mode, const float *x, int64_t planes, int64_t h, int64_t w, int k, float *out);
// Max pooling (padding never chosen), adaptive average pooling and bilinear resizing of [planes, h, w],
// as torch's max_pool2d, adaptive_avg_pool2d and interpolate(mode="bilinear").
void dg_ref_max_pool(const float *x, int64_t planes, int64_t h, int64_t w, int k, int stride, int pad, float *out);
void dg_ref_adaptive_avg_pool(const float *x, int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow, float *out);
void dg_ref_resize_bilinear(const float *x, int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow,
                            bool align_corners, float *out);

// Layout (dg_layout.h): permute a contiguous [shape] tensor; concat n inputs of [outer, sizes[i], inner].
void dg_ref_permute(const float *x, int ndim, const int64_t *shape, const int *perm, float *out);
void dg_ref_concat(const float *const *inputs, const int64_t *sizes, int n, int64_t outer, int64_t inner, float *out);

// Embeddings (dg_embedding.h).
void dg_ref_embedding_lookup(const uint32_t *ids, int64_t n_ids, const float *table, int64_t vocab, int64_t dim,
                             float *out);
void dg_ref_timestep_embedding(const float *t, int64_t n, int dim, float max_period, bool cos_first, float *out);

// Reductions (dg_reduce.h) of x viewed as [outer, a, inner] along a.
void dg_ref_reduce(dg_reduce_op op, const float *x, int64_t outer, int64_t a, int64_t inner, float *out);
// out[z] = op(a[z]) op(b[z]) for z < max(za, zb); a batch count of 1 broadcasts. a is [M, K] per
// batch ([K, M] when ta), b [K, N] ([N, K] when tb), out [M, N].
void dg_ref_matmul(const float *a, bool ta, int64_t za, const float *b, bool tb, int64_t zb, int64_t M, int64_t N,
                   int64_t K, float *out);
// y[r] = x[r] W^T + bias (bias may be NULL); x [rows, in], w [out, in].
void dg_ref_linear(const float *x, const float *w, const float *bias, int64_t rows, int64_t in, int64_t out, float *y);
// NCHW conv2d as torch: x [N, Cin, H, W], w [Cout, Cin/groups, KH, KW], bias [Cout] or NULL.
void dg_ref_conv2d(const float *x, const float *w, const float *bias, int64_t N, int64_t Cin, int64_t H, int64_t W,
                   int64_t Cout, int64_t KH, int64_t KW, int sh, int sw, int ph, int pw, int groups, float *y);
// The same with the padding of each side: pad = {top, left, bottom, right} (the VAE encoder's
// downsampling pads {0, 0, 1, 1}).
void dg_ref_conv2d_pads(const float *x, const float *w, const float *bias, int64_t N, int64_t Cin, int64_t H,
                        int64_t W, int64_t Cout, int64_t KH, int64_t KW, int sh, int sw, const int pad[4], int groups,
                        float *y);
// Temporal k x 1 x 1 convolution: x [N, Cin, F, HW], w [Cout, Cin, k], y [N, Cout, F + 2 pad - k + 1, HW].
void dg_ref_conv_temporal(const float *x, const float *w, const float *bias, int64_t N, int64_t Cin, int64_t F,
                          int64_t HW, int64_t Cout, int64_t k, int pad, float *y);

// Backwards (dg_backward.h), gradients with respect to the inputs, in the same layouts.
// dx [N, Cin, H, W] of conv2d (one group, top/left padding ph, pw; dy [N, Cout, Ho, Wo]).
void dg_ref_conv2d_backward(const float *dy, const float *w, int64_t N, int64_t Cin, int64_t H, int64_t W, int64_t Cout,
                            int64_t Ho, int64_t Wo, int64_t KH, int64_t KW, int sh, int sw, int ph, int pw, float *dx);
// Group norm (+ SiLU) of x [n, c, hw] and layer norm (+ SiLU) of x [rows, len], affine.
void dg_ref_group_norm_backward(const float *x, const float *dy, int64_t n, int64_t c, int64_t hw, int groups,
                                const float *gamma, const float *beta, float eps, bool silu, float *dx);
void dg_ref_layer_norm_backward(const float *x, const float *dy, int64_t rows, int64_t len, const float *gamma,
                                const float *beta, float eps, bool silu, float *dx);
// ds = scale P (g - rowsum(g P)), g = dp (or 0 when NULL) + gc at the chosen columns.
void dg_ref_softmax_backward(const float *p, const float *dp, const float *gc, const int *chosen, int n_chosen,
                             int64_t rows, int64_t len, float scale, float *ds);
void dg_ref_geglu_backward(const float *x, const float *dy, int64_t rows, int64_t f, float *dx);
// Attention (layouts of dg_ref_attention, no bias or mask): d_out and/or gprobs [n*heads, lq, n_chosen];
// dk, dv may be NULL.
void dg_ref_attention_backward(const float *q, const float *k, const float *v, const float *d_out, const float *gprobs,
                               const int *chosen, int n_chosen, int64_t n, int64_t lq, int64_t lk, int heads, int64_t d,
                               float scale, float *dq, float *dk, float *dv);

// Fourier transforms (render/gpu/dg_fft, dg_spectral.h), naive and in double: the full 2-D DFT of one
// complex plane [h, w] (im_in may be NULL for a real plane), sign -1 forward, +1 inverse (unnormalised),
// X(ky, kx) = sum_y,x x(y, x) e^{sign 2 pi i (ky y / h + kx x / w)}, rows then columns.
void dg_ref_dft2d(const double *re_in, const double *im_in, int64_t h, int64_t w, int sign, double *re, double *im);
// FDA of `planes` content planes with as many style planes [planes, h, w], as dg_fda_swap on the full
// spectrum (window |ky|, |kx| <= b of the signed frequencies; b < 0: none), then the inverse DFT's real
// part / (h w) into out (not clamped).
void dg_ref_fda(const float *content, const float *style, int64_t planes, int64_t h, int64_t w, int b, float strength,
                float *out);

// StyleGAN2 (dg_modconv.h). upfirdn2d of [planes, h, w] by its definition (zero insertion, pad {x0, x1, y0,
// y1}, correlation with the flipped filter times gain, every down-th sample).
void dg_ref_upfirdn2d(const float *x, int64_t planes, int64_t h, int64_t w, const float *f, int fh, int fw, int up,
                      int down, const int pad[4], float gain, float *out);
// A modulated conv the fused way (ADA's modulated_conv2d with per-sample weights): w [O, I, K, K] times
// styles [N, I], demodulated per (n, o) when demod, conv stride 1 padding K/2, then + strength * noise
// (noise_mode 1: [H, W], 2: [N, H, W], 3: [N, O, H, W]; noise may be NULL), + bias, leaky ReLU 0.2 x sqrt 2 when
// lrelu, x gain, clamped when clamp >= 0. out [N, O, H, W].
void dg_ref_modconv(const float *x, const float *w, const float *styles, int64_t N, int64_t I, int64_t H, int64_t W,
                    int64_t O, int K, bool demod, const float *noise, int noise_mode, float strength,
                    const float *bias, bool lrelu, float gain, float clamp, float *out);
