// Reading PyTorch checkpoints: the zip files of torch.save (.ckpt, .pt, .pth, .bin) as a table of
// tensors, the same handle as a .safetensors file (dg_safetensors_open dispatches here for a zip).
// The archive (dg_zip) holds `<archive>/data.pkl`, a pickle run by the data-only interpreter of
// dg_pickle (nothing executed, globals from an allowlist), and `<archive>/data/<key>` with each
// storage's raw little-endian bytes. The state dict is found in the pickle's top object:
// - the dict of tensors itself, or under `state_dict` (Lightning, LDM, VideoCrafter2), `model` or
//   `module` (DeepSpeed), looked for up to two levels down;
// - a `_forward_module.` (Lightning DeepSpeed) or `module.` (DeepSpeed, DataParallel) prefix common to
//   every tensor name is removed;
// - entries that are not tensors (epoch, global_step, optimizer states, hyper-parameters) are ignored.
// Each tensor is a view of its storage entry: contiguous row-major strides are required, and the
// view's offset and element count are checked against the storage's size and the entry's bytes.
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "dg_safetensors.h"

// True if the image starts like a zip archive.
bool dg_ckpt_is_zip(const void *data, size_t size);
// Reads the checkpoint image `data` (size bytes, a private mapping of `path` if `mapped`, released on
// close, or on failure here; otherwise it must outlive the handle).
dg_status dg_ckpt_open_image(const char *path, const void *data, size_t size, bool mapped, dg_safetensors **out);
