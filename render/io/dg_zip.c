#include "dg_zip.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOCATOR 0x07064b50u
#define EOCD_SIZE 22u
#define LOCATOR_SIZE 20u
#define EOCD64_SIZE 56u
#define CENTRAL_SIZE 46u
#define LOCAL_SIZE 30u

struct dg_zip {
  char *path;
  const unsigned char *data;
  size_t size;
  dg_zip_entry *entries; // central directory order
  const dg_zip_entry **sorted;
  size_t count;
};

static uint16_t u16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t u32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t u64(const unsigned char *p) { return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32; }

static int cmp_entry(const void *a, const void *b) {
  return strcmp((*(const dg_zip_entry *const *)a)->name, (*(const dg_zip_entry *const *)b)->name);
}

// True if [offset, offset + len) lies inside [0, limit).
static bool inside(uint64_t offset, uint64_t len, uint64_t limit) { return offset <= limit && len <= limit - offset; }

static dg_status check_name(const dg_zip *z, const unsigned char *p, size_t n, size_t index) {
  if (n == 0) return dg_fail(DG_ERR_FORMAT, "%s: zip entry %zu has an empty name", z->path, index);
  if (n > DG_ZIP_MAX_NAME)
    return dg_fail(DG_ERR_FORMAT, "%s: zip entry %zu has a name of %zu bytes (at most %d)", z->path, index, n,
                   DG_ZIP_MAX_NAME);
  if (memchr(p, 0, n)) return dg_fail(DG_ERR_FORMAT, "%s: zip entry %zu has a NUL byte in its name", z->path, index);
  bool bad = p[0] == '/' || p[0] == '\\';
  for (size_t i = 0; i < n && !bad; i++) { // a '..' path part
    if (p[i] == '\\') bad = true;
    bool start = i == 0 || p[i - 1] == '/';
    if (start && i + 1 < n && p[i] == '.' && p[i + 1] == '.' && (i + 2 == n || p[i + 2] == '/')) bad = true;
  }
  if (bad)
    return dg_fail(DG_ERR_FORMAT, "%s: zip entry %zu has an unsafe name '%.*s'", z->path, index, (int)(n > 160 ? 160 : n),
                   (const char *)p);
  return DG_OK;
}

// The ZIP64 extended information extra field (id 1) of a central header: fields present only for the
// values that are saturated in the header, in this order.
static dg_status zip64_extra(const dg_zip *z, const unsigned char *extra, size_t n, size_t index, uint64_t *full_size,
                             uint64_t *size, uint64_t *offset, bool need_disk) {
  bool need[3] = {*full_size == 0xffffffffu, *size == 0xffffffffu, *offset == 0xffffffffu};
  if (!need[0] && !need[1] && !need[2] && !need_disk) return DG_OK;
  for (size_t at = 0; at + 4 <= n;) {
    uint16_t id = u16(extra + at), len = u16(extra + at + 2);
    if (len > n - at - 4)
      return dg_fail(DG_ERR_FORMAT, "%s: zip entry %zu: extra field runs past its header", z->path, index);
    if (id == 1) {
      const unsigned char *f = extra + at + 4;
      size_t used = 0;
      uint64_t *vals[3] = {full_size, size, offset};
      for (int i = 0; i < 3; i++) {
        if (!need[i]) continue;
        if (used + 8 > len)
          return dg_fail(DG_ERR_FORMAT, "%s: zip entry %zu: ZIP64 extra field too short", z->path, index);
        *vals[i] = u64(f + used);
        used += 8;
      }
      return DG_OK;
    }
    at += 4u + len;
  }
  return dg_fail(DG_ERR_FORMAT, "%s: zip entry %zu: sizes or offset need a ZIP64 extra field, which is missing",
                 z->path, index);
}

static dg_status parse(dg_zip *z) {
  const unsigned char *d = z->data;
  size_t size = z->size;
  if (size < EOCD_SIZE)
    return dg_fail(DG_ERR_FORMAT, "%s: %zu bytes, too short for a zip archive (truncated?)", z->path, size);
  // The end of central directory record: its comment must run exactly to the end of the file.
  size_t eocd = SIZE_MAX;
  size_t lowest = size - EOCD_SIZE > 0xffff ? size - EOCD_SIZE - 0xffff : 0;
  for (size_t p = size - EOCD_SIZE + 1; p-- > lowest;)
    if (u32(d + p) == SIG_EOCD && p + EOCD_SIZE + u16(d + p + 20) == size) {
      eocd = p;
      break;
    }
  if (eocd == SIZE_MAX)
    return dg_fail(DG_ERR_FORMAT, "%s: no zip end of central directory record (not a zip archive, or truncated)",
                   z->path);
  const unsigned char *e = d + eocd;
  uint64_t count = u16(e + 10), cd_size = u32(e + 12), cd_offset = u32(e + 16);
  if (u16(e + 4) != 0 || u16(e + 6) != 0 || u16(e + 8) != u16(e + 10))
    return dg_fail(DG_ERR_UNSUPPORTED, "%s: a multi-disk zip archive", z->path);
  uint64_t cd_limit = eocd; // the central directory ends before the records that describe it
  if (eocd >= LOCATOR_SIZE && u32(d + eocd - LOCATOR_SIZE) == SIG_LOCATOR) {
    const unsigned char *l = d + eocd - LOCATOR_SIZE;
    uint64_t at = u64(l + 8);
    if (u32(l + 4) != 0 || u32(l + 16) > 1)
      return dg_fail(DG_ERR_UNSUPPORTED, "%s: a multi-disk zip archive (ZIP64 locator)", z->path);
    if (!inside(at, EOCD64_SIZE, eocd - LOCATOR_SIZE) || u32(d + at) != SIG_EOCD64)
      return dg_fail(DG_ERR_FORMAT, "%s: ZIP64 end of central directory record missing at offset %llu", z->path,
                     (unsigned long long)at);
    const unsigned char *r = d + at;
    uint64_t rec = u64(r + 4);
    if (rec < EOCD64_SIZE - 12 || !inside(at, rec + 12, eocd - LOCATOR_SIZE))
      return dg_fail(DG_ERR_FORMAT, "%s: ZIP64 end of central directory record of %llu bytes runs past its locator",
                     z->path, (unsigned long long)rec);
    if (u32(r + 16) != 0 || u32(r + 20) != 0 || u64(r + 24) != u64(r + 32))
      return dg_fail(DG_ERR_UNSUPPORTED, "%s: a multi-disk zip archive (ZIP64 record)", z->path);
    if (count != 0xffff && count != u64(r + 32))
      return dg_fail(DG_ERR_FORMAT, "%s: zip entry counts disagree (%llu, ZIP64 %llu)", z->path,
                     (unsigned long long)count, (unsigned long long)u64(r + 32));
    count = u64(r + 32);
    cd_size = u64(r + 40);
    cd_offset = u64(r + 48);
    cd_limit = at;
  } else if (count == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu) {
    return dg_fail(DG_ERR_FORMAT, "%s: zip end of central directory asks for ZIP64 records, which are missing", z->path);
  }
  if (!inside(cd_offset, cd_size, cd_limit))
    return dg_fail(DG_ERR_FORMAT,
                   "%s: zip central directory [%llu, +%llu) runs past its end record at %llu (truncated or corrupt)",
                   z->path, (unsigned long long)cd_offset, (unsigned long long)cd_size, (unsigned long long)cd_limit);
  if (count > DG_ZIP_MAX_ENTRIES)
    return dg_fail(DG_ERR_UNSUPPORTED, "%s: %llu zip entries (at most %u)", z->path, (unsigned long long)count,
                   DG_ZIP_MAX_ENTRIES);
  if (count > cd_size / CENTRAL_SIZE)
    return dg_fail(DG_ERR_FORMAT, "%s: %llu zip entries cannot fit a central directory of %llu bytes", z->path,
                   (unsigned long long)count, (unsigned long long)cd_size);
  z->entries = calloc(count + 1, sizeof *z->entries);
  z->sorted = calloc(count + 1, sizeof *z->sorted);
  if (!z->entries || !z->sorted) return dg_fail(DG_ERR_OOM, "%s: out of memory for %llu zip entries", z->path,
                                                (unsigned long long)count);
  uint64_t at = cd_offset, cd_end = cd_offset + cd_size;
  for (size_t i = 0; i < count; i++) {
    if (!inside(at, CENTRAL_SIZE, cd_end) || u32(d + at) != SIG_CENTRAL)
      return dg_fail(DG_ERR_FORMAT, "%s: zip central directory entry %zu missing at offset %llu", z->path, i,
                     (unsigned long long)at);
    const unsigned char *c = d + at;
    uint16_t flags = u16(c + 8), method = u16(c + 10), nl = u16(c + 28), el = u16(c + 30), cl = u16(c + 32);
    if (!inside(at, (uint64_t)CENTRAL_SIZE + nl + el + cl, cd_end))
      return dg_fail(DG_ERR_FORMAT, "%s: zip central directory entry %zu runs past the directory", z->path, i);
    DG_TRY(check_name(z, c + CENTRAL_SIZE, nl, i));
    dg_zip_entry *en = &z->entries[z->count];
    char *name = malloc((size_t)nl + 1);
    if (!name) return dg_fail(DG_ERR_OOM, "%s: out of memory", z->path);
    memcpy(name, c + CENTRAL_SIZE, nl);
    name[nl] = 0;
    en->name = name;
    z->count++;
    if (flags & 1) return dg_fail(DG_ERR_UNSUPPORTED, "%s: zip entry '%.160s' is encrypted", z->path, name);
    en->method = method;
    en->crc = u32(c + 16);
    en->size = u32(c + 20);
    en->full_size = u32(c + 24);
    uint64_t local = u32(c + 42);
    DG_TRY(zip64_extra(z, c + CENTRAL_SIZE + nl, el, i, &en->full_size, &en->size, &local, u16(c + 34) == 0xffff));
    if (u16(c + 34) != 0 && u16(c + 34) != 0xffff)
      return dg_fail(DG_ERR_UNSUPPORTED, "%s: zip entry '%.160s' starts on another disk", z->path, name);
    if (method == 0 && en->size != en->full_size)
      return dg_fail(DG_ERR_FORMAT, "%s: stored zip entry '%.160s' has sizes %llu and %llu", z->path, name,
                     (unsigned long long)en->size, (unsigned long long)en->full_size);
    // The local header: same name, and the data after it, before the central directory.
    if (!inside(local, LOCAL_SIZE, cd_offset) || u32(d + local) != SIG_LOCAL)
      return dg_fail(DG_ERR_FORMAT, "%s: zip entry '%.160s': no local header at offset %llu", z->path, name,
                     (unsigned long long)local);
    const unsigned char *h = d + local;
    uint16_t lnl = u16(h + 26), lel = u16(h + 28);
    if (lnl != nl || !inside(local, (uint64_t)LOCAL_SIZE + lnl, cd_offset) || memcmp(h + LOCAL_SIZE, name, nl))
      return dg_fail(DG_ERR_FORMAT, "%s: zip entry '%.160s': its local header names another file", z->path, name);
    en->offset = local + LOCAL_SIZE + lnl + lel;
    if (!inside(en->offset, en->size, cd_offset))
      return dg_fail(DG_ERR_FORMAT,
                     "%s: zip entry '%.160s': data [%llu, +%llu) runs past the archive's data (truncated or corrupt)",
                     z->path, name, (unsigned long long)en->offset, (unsigned long long)en->size);
    at += (uint64_t)CENTRAL_SIZE + nl + el + cl;
  }
  for (size_t i = 0; i < z->count; i++)
    z->sorted[i] = &z->entries[i];
  qsort(z->sorted, z->count, sizeof *z->sorted, cmp_entry);
  for (size_t i = 1; i < z->count; i++)
    if (!strcmp(z->sorted[i - 1]->name, z->sorted[i]->name))
      return dg_fail(DG_ERR_FORMAT, "%s: zip entry '%.160s' appears twice", z->path, z->sorted[i]->name);
  return DG_OK;
}

dg_status dg_zip_open_memory(const void *data, size_t size, const char *name, dg_zip **out) {
  *out = NULL;
  if (!data && size) return dg_fail(DG_ERR_ARG, "dg_zip_open_memory: NULL data");
  dg_zip *z = calloc(1, sizeof *z);
  if (!z || !(z->path = strdup(name ? name : "<memory>"))) {
    free(z);
    return dg_fail(DG_ERR_OOM, "dg_zip_open_memory: out of memory");
  }
  z->data = data;
  z->size = size;
  dg_status s = parse(z);
  if (s != DG_OK) {
    dg_zip_close(z);
    return s;
  }
  *out = z;
  return DG_OK;
}

void dg_zip_close(dg_zip *z) {
  if (!z) return;
  for (size_t i = 0; i < z->count; i++)
    free((char *)z->entries[i].name);
  free(z->entries);
  free(z->sorted);
  free(z->path);
  free(z);
}

size_t dg_zip_count(const dg_zip *z) { return z->count; }
const dg_zip_entry *dg_zip_entry_at(const dg_zip *z, size_t index) {
  return index < z->count ? &z->entries[index] : NULL;
}

const dg_zip_entry *dg_zip_find(const dg_zip *z, const char *name) {
  if (!name) return NULL;
  dg_zip_entry key = {.name = name};
  const dg_zip_entry *k = &key, *const *e = z->count ? bsearch(&k, z->sorted, z->count, sizeof *z->sorted, cmp_entry) : NULL;
  return e ? *e : NULL;
}

dg_status dg_zip_data(const dg_zip *z, const dg_zip_entry *e, const unsigned char **data) {
  *data = NULL;
  if (e->method != 0)
    return dg_fail(DG_ERR_UNSUPPORTED,
                   "%s: zip entry '%.160s' is compressed (method %u); only stored entries are read (as torch.save "
                   "writes them)",
                   z->path, e->name, e->method);
  *data = z->data + e->offset;
  return DG_OK;
}

dg_status dg_zip_data_checked(const dg_zip *z, const dg_zip_entry *e, const unsigned char **data) {
  DG_TRY(dg_zip_data(z, e, data));
  uLong crc = crc32(0, Z_NULL, 0);
  for (uint64_t done = 0; done < e->size;) { // zlib takes 32-bit lengths
    uInt n = e->size - done > (1u << 30) ? (1u << 30) : (uInt)(e->size - done);
    crc = crc32(crc, *data + done, n);
    done += n;
  }
  if ((uint32_t)crc != e->crc) {
    *data = NULL;
    return dg_fail(DG_ERR_FORMAT, "%s: zip entry '%.160s' fails its CRC-32 check (corrupt)", z->path, e->name);
  }
  return DG_OK;
}
