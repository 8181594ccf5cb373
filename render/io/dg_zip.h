// Reading zip archives held in memory (the container of PyTorch's torch.save files). The end of central
// directory record is searched from the end, ZIP64 records and extra fields are understood, and every
// entry is validated on open: its central and local headers, its name (non-empty, no NUL, no absolute
// path, no '..' part, not twice in the archive) and its data range inside the image. Only STORED
// entries give their data (torch.save writes nothing else); a compressed entry is refused by name when
// its data is asked for. Multi-disk archives and encrypted entries are refused.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "dg_status.h"

#define DG_ZIP_MAX_ENTRIES (1u << 20)
#define DG_ZIP_MAX_NAME 1024

typedef struct dg_zip_entry {
  const char *name;   // NUL-terminated copy
  uint64_t offset;    // of the entry's data inside the image
  uint64_t size;      // stored (compressed) size
  uint64_t full_size; // uncompressed size
  uint32_t crc;
  uint16_t method; // 0 = stored
} dg_zip_entry;

typedef struct dg_zip dg_zip;

// `data` (size bytes) must outlive the handle; `name` is used in messages.
dg_status dg_zip_open_memory(const void *data, size_t size, const char *name, dg_zip **out);
void dg_zip_close(dg_zip *z);

size_t dg_zip_count(const dg_zip *z);
const dg_zip_entry *dg_zip_entry_at(const dg_zip *z, size_t index); // in central directory order
const dg_zip_entry *dg_zip_find(const dg_zip *z, const char *name);
// The bytes of a STORED entry (DG_ERR_UNSUPPORTED naming the entry and its method otherwise).
dg_status dg_zip_data(const dg_zip *z, const dg_zip_entry *e, const unsigned char **data);
// Same, also checking the CRC-32 (for small entries such as the pickle).
dg_status dg_zip_data_checked(const dg_zip *z, const dg_zip_entry *e, const unsigned char **data);
