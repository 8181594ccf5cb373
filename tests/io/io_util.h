// Helpers for the render/io tests: building safetensors images in memory (valid or deliberately
// broken), writing files into a temporary folder. Checks come from tests/common/dg_check.h.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dg_check.h"
#include "dg_status.h"

// A safetensors image built tensor by tensor (data copied, offsets contiguous, names in add order).
typedef struct io_writer io_writer;
io_writer *io_writer_new(void);
void io_writer_free(io_writer *w);
// dtype is the safetensors name ("F32", "BF16", ...); data may be NULL for zeros.
void io_writer_add(io_writer *w, const char *name, const char *dtype, int ndim, const int64_t *shape, const void *data,
                   size_t bytes);
void io_writer_meta(io_writer *w, const char *key, const char *value);
// The whole file image (malloc'd; caller frees).
unsigned char *io_writer_image(const io_writer *w, size_t *size);
bool io_writer_save(const io_writer *w, const char *path);

// 8-byte length field + header text (exactly as given) + data.
unsigned char *io_image(uint64_t length_field, const char *header, const void *data, size_t data_size, size_t *size);
// Same with the length field set to strlen(header).
unsigned char *io_image_h(const char *header, const void *data, size_t data_size, size_t *size);

bool io_write_file(const char *path, const void *data, size_t size);
unsigned char *io_read_file(const char *path, size_t *size);
// A fresh temporary folder (removed with io_rmtree).
char *io_tmpdir(void);
// dir/name in one of 8 rotating static buffers (so a few may be used in one call).
const char *io_path(const char *dir, const char *name);
void io_rmtree(const char *path);
bool io_mkdirs(const char *path);
