#version 450
// FDA's amplitude swap (Yang & Soatto 2020) on half spectra (render/gpu/dg_fft's layout): the spectrum
// buffer holds 2 * planes planes [h, w2] of complex values, the content's first, then the style's. Inside
// the low-frequency window |ky| <= b, kx <= b, each content value gets the amplitude
// mix(|C|, |S|, strength) and keeps its phase (phase 0 where C is 0, as numpy's angle). One invocation
// per window element: rows r < rows (ky = r - b, wrapped, unless the window covers every row), columns
// kx < cols.
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) buffer S { vec2 s[]; };
layout(push_constant) uniform P {
  uint planes, h, w2, b, rows, cols;
  float strength;
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.planes * p.rows * p.cols) return;
  uint x = i % p.cols, r = (i / p.cols) % p.rows, plane = i / (p.cols * p.rows);
  uint y = p.rows == p.h ? r : (r + p.h - p.b) % p.h;
  uint at = (plane * p.h + y) * p.w2 + x, style_at = at + p.planes * p.h * p.w2;
  vec2 c = s[at];
  float ca = length(c), amp = mix(ca, length(s[style_at]), p.strength);
  s[at] = ca > 0.0 ? c * (amp / ca) : vec2(amp, 0.0);
}
