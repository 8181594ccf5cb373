#version 450
// Spatial resampling of planes [P, H, W], one output element per invocation: nearest 2x upsample
// (MODE 0), average pooling with kernel = stride S (MODE 1, floor) and strided subsampling
// x[:, ::S, ::S] (MODE 2). MODE 3 is the upsample with vec4s (W % 4 == 0, aligned offsets, all
// in vec4 units): one input vec4 per invocation, written as two vec4s on each of two rows.
// MODE 4: max pooling (kernel K, stride S, padding PAD never chosen); MODE 5: adaptive average
// pooling (torch's windows [floor(i H / OH), ceil((i + 1) H / OH))); MODE 6: bilinear resize as torch
// (S = align_corners, scale_h/scale_w source pixels per output pixel).
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MODE = 0;
layout(std430, binding = 0) readonly buffer X { T x[]; };
layout(std430, binding = 1) writeonly buffer O { T o[]; };
#ifdef DG_F16
#define V f16vec4
#else
#define V vec4
#endif
layout(std430, binding = 2) readonly buffer X4 { V x4[]; };
layout(std430, binding = 3) writeonly buffer O4 { V o4[]; };
layout(push_constant) uniform P {
  uint n; // output elements in this chunk
  uint x_off, o_off, h, w, oh, ow, s;
  uint k, pad;
  uint band, row0; // output rows per plane in this dispatch (a band of one plane when < oh), the first one
  float scale_h, scale_w;
} p;

// torch's area_pixel_compute_source_index followed by the bilinear neighbours and weight.
void source(uint d, float scale, uint size, out uint i0, out uint i1, out float l1) {
  float src = p.s != 0 ? scale * float(d) : max(scale * (float(d) + 0.5) - 0.5, 0.0);
  i0 = min(uint(src), size - 1);
  i1 = i0 + (i0 < size - 1 ? 1 : 0);
  l1 = src - float(i0);
}

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.n) return;
  if (MODE == 3) { // i: input vec4; w, ow in vec4s
    uint row = i / p.w, c = i % p.w;
    vec4 v = vec4(x4[p.x_off + i]);
    vec4 lo = v.xxyy, hi = v.zzww;
    uint ob = p.o_off + 2 * row * p.ow + 2 * c; // input row r of a plane -> output rows 2r, 2r + 1
    o4[ob] = V(lo);
    o4[ob + 1] = V(hi);
    o4[ob + p.ow] = V(lo);
    o4[ob + p.ow + 1] = V(hi);
    return;
  }
  uint plane = i / (p.band * p.ow), rem = i % (p.band * p.ow), oy = p.row0 + rem / p.ow, ox = rem % p.ow;
  uint base = p.x_off + plane * p.h * p.w;
  float r;
  if (MODE == 0) {
    r = float(x[base + (oy / 2) * p.w + ox / 2]);
  } else if (MODE == 1) {
    r = 0.0;
    for (uint dy = 0; dy < p.s; dy++)
      for (uint dx = 0; dx < p.s; dx++) r += float(x[base + (oy * p.s + dy) * p.w + ox * p.s + dx]);
    r /= float(p.s * p.s);
  } else if (MODE == 2) {
    r = float(x[base + oy * p.s * p.w + ox * p.s]);
  } else if (MODE == 4) {
    int y0 = int(oy * p.s) - int(p.pad), x0 = int(ox * p.s) - int(p.pad);
    int y1 = min(y0 + int(p.k), int(p.h)), x1 = min(x0 + int(p.k), int(p.w));
    r = uintBitsToFloat(0xff800000u); // -inf
    for (int yy = max(y0, 0); yy < y1; yy++)
      for (int xx = max(x0, 0); xx < x1; xx++) r = max(r, float(x[base + uint(yy) * p.w + uint(xx)]));
  } else if (MODE == 5) {
    uint y0 = (oy * p.h) / p.oh, y1 = ((oy + 1) * p.h + p.oh - 1) / p.oh;
    uint x0 = (ox * p.w) / p.ow, x1 = ((ox + 1) * p.w + p.ow - 1) / p.ow;
    r = 0.0;
    for (uint yy = y0; yy < y1; yy++)
      for (uint xx = x0; xx < x1; xx++) r += float(x[base + yy * p.w + xx]);
    r /= float((y1 - y0) * (x1 - x0));
  } else {
    uint y0, y1, x0, x1;
    float ly, lx;
    source(oy, p.scale_h, p.h, y0, y1, ly);
    source(ox, p.scale_w, p.w, x0, x1, lx);
    float top = (1.0 - lx) * float(x[base + y0 * p.w + x0]) + lx * float(x[base + y0 * p.w + x1]);
    float bot = (1.0 - lx) * float(x[base + y1 * p.w + x0]) + lx * float(x[base + y1 * p.w + x1]);
    r = (1.0 - ly) * top + ly * bot;
  }
  o[p.o_off + i] = T(r);
}
