#version 450
// Attention for head dims that are not a multiple of 4 (scalar loads); see attention.comp.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_KHR_shader_subgroup_vote : require
#include "dg_common.glsl"
#define DG_ATTENTION_SCALAR
#include "attention_body.glsl"
