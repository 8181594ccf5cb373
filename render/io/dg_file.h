// Input files from outside: only regular files are opened. A FIFO, a device (such as /dev/zero), a
// socket or a directory is refused at once with a message naming the path: the path is checked before
// it is opened, and opened with O_NONBLOCK, so a FIFO without a writer cannot block and nothing is read
// from a device. Reading a whole file has a size cap, so a huge file is refused before it is read.
#pragma once
#include <stddef.h>
#include <stdio.h>

#include "dg_status.h"

// Opens `path` read-only (close-on-exec); *size is its size. DG_ERR_IO naming the path otherwise.
dg_status dg_file_open(const char *path, int *fd, size_t *size);
// The same as a stdio stream ("rb").
dg_status dg_file_fopen(const char *path, FILE **out);
// Reads the whole file into *data (malloc'd, NUL-terminated, *size bytes before the NUL). A file of
// more than max_bytes is DG_ERR_FORMAT, naming the path and the limit.
dg_status dg_file_read(const char *path, size_t max_bytes, char **data, size_t *size);
// Maps the whole file read-only and private (*data is NULL for an empty file); dg_file_unmap releases
// it. The same checks as dg_file_open.
dg_status dg_file_map(const char *path, const void **data, size_t *size);
void dg_file_unmap(const void *data, size_t size);
