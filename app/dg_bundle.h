// Bundles: a zip archive of named files, the container of project files (document JSON plus PNGs).
// Written with every entry stored (PNGs are compressed already), a fixed timestamp and no extra
// fields, so the same contents give the same bytes. Read strictly from memory: stored or deflated
// entries, sizes and offsets inside the archive, CRC-32 checked, no encryption, no zip64, no two
// entries of one name; anything else is an error that names the problem.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dg_status.h"

typedef struct dg_bundle_writer dg_bundle_writer;
dg_bundle_writer *dg_bundle_writer_new(void);
// Appends an entry (data is copied). Names are UTF-8 paths with '/' separators.
void dg_bundle_writer_add(dg_bundle_writer *w, const char *name, const void *data, size_t size);
// The archive (malloc'd) and its size; frees the writer. NULL with an error past 4 GiB (no zip64).
uint8_t *dg_bundle_writer_finish(dg_bundle_writer *w, size_t *size);
void dg_bundle_writer_free(dg_bundle_writer *w);

// True when data starts like a zip archive.
bool dg_bundle_sniff(const void *data, size_t size);

typedef struct dg_bundle dg_bundle;
// Indexes the archive in data (not copied: it must outlive the bundle). NULL with an error if the
// archive is malformed.
dg_bundle *dg_bundle_open(const uint8_t *data, size_t size);
void dg_bundle_free(dg_bundle *b);
int dg_bundle_count(const dg_bundle *b);
const char *dg_bundle_name(const dg_bundle *b, int index);
bool dg_bundle_has(const dg_bundle *b, const char *name);
// The contents of entry `name` (malloc'd, NUL-terminated one byte past *size). NULL with an error
// when it is missing, larger than max_size, or corrupt.
uint8_t *dg_bundle_read(const dg_bundle *b, const char *name, size_t max_size, size_t *size);
