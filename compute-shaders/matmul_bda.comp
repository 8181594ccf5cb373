#version 450
// matmul.comp with A (and B, unless it is read through the uniform binding) loaded through buffer device
// addresses; see matmul_body.glsl and norm_bda.comp.
#extension GL_GOOGLE_include_directive : require
#define DG_BDA
#include "matmul_body.glsl"
