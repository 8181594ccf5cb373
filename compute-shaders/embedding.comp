#version 450
// Token embedding lookup: out[r, c] = table[ids[r], c], one element per invocation. The table may
// be split over several dispatches (rows v0 .. v0 + nv of it bound each time); a dispatch writes
// only the rows whose id falls in its part, and the first one writes zeros for ids >= vocab.
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer Ids { uint ids[]; };
layout(std430, binding = 1) readonly buffer Table { T table[]; };
layout(std430, binding = 2) writeonly buffer O { T o[]; };
layout(push_constant) uniform P {
  uint n, dim;        // output elements in this chunk, row length
  uint ids_off, t_off, o_off;
  uint v0, nv, vocab; // the bound table rows, and the table's row count
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.n) return;
  uint r = i / p.dim, c = i % p.dim, id = ids[p.ids_off + r];
  if (id - p.v0 < p.nv) o[p.o_off + i] = table[p.t_off + (id - p.v0) * p.dim + c];
  else if (p.v0 == 0 && id >= p.vocab) o[p.o_off + i] = T(0.0);
}
