// vec4s through buffer device addresses (XV(address), load4, store4), for the kernels written for CPU
// devices: lavapipe loads and stores each component of each lane separately, but through an address without
// the storage buffer's bounds check, so data moves as 64-bit words (one per f16 vec4, two per f32 vec4).
// Needs GL_EXT_buffer_reference, GL_EXT_buffer_reference_uvec2 and 64-bit integers (shaderInt64).
#ifdef DG_F16
layout(buffer_reference, std430, buffer_reference_align = 8) buffer XV { uint64_t v[]; };
vec4 load4(XV r, uint i) {
  uvec2 u = unpackUint2x32(r.v[i]);
  return vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y));
}
void store4(XV r, uint i, vec4 y) { r.v[i] = packUint2x32(uvec2(packHalf2x16(y.xy), packHalf2x16(y.zw))); }
#else
layout(buffer_reference, std430, buffer_reference_align = 16) buffer XV { u64vec2 v[]; };
vec4 load4(XV r, uint i) {
  u64vec2 w = r.v[i];
  return uintBitsToFloat(uvec4(unpackUint2x32(w.x), unpackUint2x32(w.y)));
}
void store4(XV r, uint i, vec4 y) {
  uvec4 u = floatBitsToUint(y);
  r.v[i] = u64vec2(packUint2x32(u.xy), packUint2x32(u.zw));
}
#endif
