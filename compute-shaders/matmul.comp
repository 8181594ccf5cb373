#version 450
// See matmul_body.glsl.
#extension GL_GOOGLE_include_directive : require
#include "matmul_body.glsl"
