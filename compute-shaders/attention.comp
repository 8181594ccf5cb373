#version 450
// Flash-style attention: out = softmax(scale * Q K^T + bias) V with an online softmax over tiles of
// TILE keys, so no score matrix is ever stored. Layout (see dg_attention.h): Q/O rows are
// [item, query, head, D], K/V rows [item, key, head, D]. A workgroup serves WG * QR consecutive
// queries of one (item, head); each lane keeps QR query rows and their accumulators in registers.
// On lavapipe every storage-buffer load is executed lane by lane whatever the address, so the cost
// (and the compile time) grows with the loads per lane: this variant moves vec4s (D % 4 == 0,
// 16-byte aligned windows), attention_scalar.comp serves any D. Each K/V load feeds QR rows.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_KHR_shader_subgroup_vote : require
#include "dg_common.glsl"
#include "attention_body.glsl"
