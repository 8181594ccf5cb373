// Shared by all compute shaders: the storage type T (f32, or f16 storage with f32 arithmetic when
// compiled with DG_F16) and helpers for 2-D dispatch grids.
#extension GL_EXT_shader_16bit_storage : enable
#ifdef DG_F16
#define T float16_t
#else
#define T float
#endif

// Dispatches larger than maxComputeWorkGroupCount[0] are laid out as a 2-D grid of workgroups;
// this gives the linear workgroup index.
uint dg_group_index() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }
