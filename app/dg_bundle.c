#include "dg_bundle.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

// Zip records (APPNOTE 6.3): local file header, central directory header, end of central directory.
#define LOCAL_SIG 0x04034b50u
#define CENTRAL_SIG 0x02014b50u
#define END_SIG 0x06054b50u
#define LOCAL_SIZE 30
#define CENTRAL_SIZE 46
#define END_SIZE 22
#define FLAG_UTF8 0x0800u
#define DOS_DATE_1980 0x0021u // 1980-01-01, the earliest zip date: entries carry no real time

static void put16(GByteArray *a, unsigned v) {
  uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  g_byte_array_append(a, b, 2);
}
static void put32(GByteArray *a, uint32_t v) {
  put16(a, v & 0xffffu);
  put16(a, v >> 16);
}
static unsigned get16(const uint8_t *p) { return p[0] | (unsigned)p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }

// ---- writing -------------------------------------------------------------------------------------

typedef struct written {
  char *name;
  uint32_t crc, size, offset;
} written;

struct dg_bundle_writer {
  GByteArray *data; // local headers and contents
  GArray *entries;  // written: the central directory, made at the end
  bool too_large;
};

static void written_clear(gpointer p) { g_free(((written *)p)->name); }

dg_bundle_writer *dg_bundle_writer_new(void) {
  dg_bundle_writer *w = g_new0(dg_bundle_writer, 1);
  w->data = g_byte_array_new();
  w->entries = g_array_new(FALSE, FALSE, sizeof(written));
  g_array_set_clear_func(w->entries, written_clear);
  return w;
}

void dg_bundle_writer_free(dg_bundle_writer *w) {
  if (!w) return;
  if (w->data) g_byte_array_unref(w->data);
  g_array_unref(w->entries);
  g_free(w);
}

// The fields local and central headers share: version needed, flags, method, time, date, CRC, sizes,
// name length.
static void common_fields(GByteArray *a, const written *e) {
  put16(a, 20);
  put16(a, FLAG_UTF8);
  put16(a, 0); // stored
  put16(a, 0);
  put16(a, DOS_DATE_1980);
  put32(a, e->crc);
  put32(a, e->size);
  put32(a, e->size);
  put16(a, (unsigned)strlen(e->name));
}

void dg_bundle_writer_add(dg_bundle_writer *w, const char *name, const void *data, size_t size) {
  size_t name_len = strlen(name);
  if (size >= 0xffffffffu || name_len > 0xffff ||
      w->data->len + (uint64_t)size + LOCAL_SIZE + name_len >= 0xffffffffu || w->entries->len == 0xffff) {
    w->too_large = true;
    return;
  }
  written e = {g_strdup(name), (uint32_t)crc32(crc32(0, NULL, 0), data, (uInt)size), (uint32_t)size, w->data->len};
  g_array_append_val(w->entries, e);
  put32(w->data, LOCAL_SIG);
  common_fields(w->data, &e);
  put16(w->data, 0); // no extra field
  g_byte_array_append(w->data, (const guint8 *)name, (guint)name_len);
  g_byte_array_append(w->data, data, (guint)size);
}

uint8_t *dg_bundle_writer_finish(dg_bundle_writer *w, size_t *size) {
  uint32_t central_offset = w->data->len;
  for (guint i = 0; i < w->entries->len; i++) {
    const written *e = &g_array_index(w->entries, written, i);
    put32(w->data, CENTRAL_SIG);
    put16(w->data, 20); // made by: version 2.0, MS-DOS attributes
    common_fields(w->data, e);
    put16(w->data, 0); // extra
    put16(w->data, 0); // comment
    put16(w->data, 0); // disk
    put16(w->data, 0); // internal attributes
    put32(w->data, 0); // external attributes
    put32(w->data, e->offset);
    g_byte_array_append(w->data, (const guint8 *)e->name, (guint)strlen(e->name));
  }
  uint32_t central_size = w->data->len - central_offset;
  put32(w->data, END_SIG);
  put16(w->data, 0);
  put16(w->data, 0);
  put16(w->data, w->entries->len);
  put16(w->data, w->entries->len);
  put32(w->data, central_size);
  put32(w->data, central_offset);
  put16(w->data, 0); // comment
  uint8_t *out = NULL;
  if (w->too_large || (uint64_t)central_offset + central_size + END_SIZE >= 0xffffffffu)
    dg_fail(DG_ERR_UNSUPPORTED, "bundle: the contents exceed the 4 GiB a zip archive without zip64 can hold");
  else if (!(out = malloc(w->data->len ? w->data->len : 1)))
    dg_fail(DG_ERR_OOM, "bundle: out of memory for %u bytes", w->data->len);
  else
    memcpy(out, w->data->data, *size = w->data->len); // callers free with free()
  dg_bundle_writer_free(w);
  return out;
}

// ---- reading -------------------------------------------------------------------------------------

typedef struct entry {
  char *name;
  unsigned method;
  uint32_t crc, packed, size, offset;
} entry;

struct dg_bundle {
  const uint8_t *data;
  size_t size;
  entry *entries;
  int count;
};

bool dg_bundle_sniff(const void *data, size_t size) { return size >= 4 && get32(data) == LOCAL_SIG; }

void dg_bundle_free(dg_bundle *b) {
  if (!b) return;
  for (int i = 0; i < b->count; i++)
    g_free(b->entries[i].name);
  g_free(b->entries);
  g_free(b);
}

int dg_bundle_count(const dg_bundle *b) { return b->count; }
const char *dg_bundle_name(const dg_bundle *b, int index) {
  return index >= 0 && index < b->count ? b->entries[index].name : NULL;
}

static const entry *find(const dg_bundle *b, const char *name) {
  for (int i = 0; i < b->count; i++)
    if (!strcmp(b->entries[i].name, name)) return &b->entries[i];
  return NULL;
}
bool dg_bundle_has(const dg_bundle *b, const char *name) { return find(b, name) != NULL; }

// The end record: the last one whose comment reaches exactly to the end of the data.
static const uint8_t *find_end(const uint8_t *data, size_t size) {
  if (size < END_SIZE) return NULL;
  size_t lowest = size - END_SIZE > 0xffff ? size - END_SIZE - 0xffff : 0;
  for (size_t at = size - END_SIZE + 1; at-- > lowest;)
    if (get32(data + at) == END_SIG && at + END_SIZE + get16(data + at + 20) == size) return data + at;
  return NULL;
}

static bool read_central(dg_bundle *b, const uint8_t *p, const uint8_t *end, const uint8_t **next, int i) {
  if (end - p < CENTRAL_SIZE || get32(p) != CENTRAL_SIG)
    return dg_fail(DG_ERR_FORMAT, "bundle: central directory entry %d is damaged", i), false;
  unsigned flags = get16(p + 8), method = get16(p + 10), name_len = get16(p + 28), extra = get16(p + 30),
           comment = get16(p + 32);
  if ((size_t)(end - p) < (size_t)CENTRAL_SIZE + name_len + extra + comment)
    return dg_fail(DG_ERR_FORMAT, "bundle: central directory entry %d runs past the directory", i), false;
  char *name = g_strndup((const char *)p + CENTRAL_SIZE, name_len);
  entry e = {name, method, get32(p + 16), get32(p + 20), get32(p + 24), get32(p + 42)};
  b->entries[i] = e;
  b->count = i + 1;
  const char *why = NULL;
  if (!name_len || strlen(name) != name_len || !g_utf8_validate(name, -1, NULL))
    why = "has an empty or invalid name";
  else if (flags & 1)
    why = "is encrypted";
  else if (method != 0 && method != 8)
    why = "uses a compression method other than stored or deflate";
  else if (e.packed == 0xffffffffu || e.size == 0xffffffffu || e.offset == 0xffffffffu)
    why = "needs zip64, which is not supported";
  else if (method == 0 && e.packed != e.size)
    why = "is stored with two different sizes";
  else if ((uint64_t)e.offset + LOCAL_SIZE > b->size)
    why = "starts past the end of the archive";
  else if (find(b, name) != &b->entries[i])
    why = "has the name of an earlier entry";
  if (why) return dg_fail(DG_ERR_FORMAT, "bundle: entry %d \"%.60s\" %s", i, name, why), false;
  *next = p + CENTRAL_SIZE + name_len + extra + comment;
  return true;
}

dg_bundle *dg_bundle_open(const uint8_t *data, size_t size) {
  const uint8_t *end = find_end(data, size);
  if (!end) {
    dg_fail(DG_ERR_FORMAT, "bundle: no end of central directory (truncated or not a zip archive)");
    return NULL;
  }
  unsigned count = get16(end + 10);
  uint32_t central_size = get32(end + 12), central_offset = get32(end + 16);
  if (get16(end + 4) || get16(end + 6) || get16(end + 8) != count ||
      (uint64_t)central_offset + central_size > (size_t)(end - data)) {
    dg_fail(DG_ERR_FORMAT, "bundle: the end of central directory is inconsistent (split, zip64 or damaged archive)");
    return NULL;
  }
  dg_bundle *b = g_new0(dg_bundle, 1);
  b->data = data;
  b->size = size;
  b->entries = g_new0(entry, count ? count : 1);
  const uint8_t *p = data + central_offset, *dir_end = p + central_size;
  for (unsigned i = 0; i < count; i++)
    if (!read_central(b, p, dir_end, &p, (int)i)) {
      dg_bundle_free(b);
      return NULL;
    }
  return b;
}

static bool inflate_raw(const uint8_t *in, size_t in_size, uint8_t *out, size_t out_size) {
  z_stream z = {0};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return false;
  z.next_in = (Bytef *)in;
  z.avail_in = (uInt)in_size;
  z.next_out = out;
  z.avail_out = (uInt)out_size;
  int r = inflate(&z, Z_FINISH);
  bool ok = r == Z_STREAM_END && z.total_out == out_size && z.avail_in == 0;
  inflateEnd(&z);
  return ok;
}

uint8_t *dg_bundle_read(const dg_bundle *b, const char *name, size_t max_size, size_t *size) {
  const entry *e = find(b, name);
  if (!e) {
    dg_fail(DG_ERR_FORMAT, "bundle: no entry \"%s\"", name);
    return NULL;
  }
  if (e->size > max_size) {
    dg_fail(DG_ERR_FORMAT, "bundle: \"%s\" holds %u bytes, more than the %zu allowed", name, e->size, max_size);
    return NULL;
  }
  const uint8_t *local = b->data + e->offset;
  uint64_t start = (uint64_t)e->offset + LOCAL_SIZE + get16(local + 26) + get16(local + 28);
  if (get32(local) != LOCAL_SIG || get16(local + 26) != strlen(name) ||
      memcmp(local + LOCAL_SIZE, name, strlen(name)) || start + e->packed > b->size) {
    dg_fail(DG_ERR_FORMAT, "bundle: the local header of \"%s\" is damaged or disagrees with the directory", name);
    return NULL;
  }
  uint8_t *out = malloc((size_t)e->size + 1);
  if (!out) {
    dg_fail(DG_ERR_OOM, "bundle: out of memory for \"%s\" (%u bytes)", name, e->size);
    return NULL;
  }
  const uint8_t *packed = b->data + start;
  bool ok = e->method == 0 ? (memcpy(out, packed, e->size), true) : inflate_raw(packed, e->packed, out, e->size);
  if (!ok || (uint32_t)crc32(crc32(0, NULL, 0), out, (uInt)e->size) != e->crc) {
    free(out);
    dg_fail(DG_ERR_FORMAT, "bundle: \"%s\" is corrupt (%s)", name, ok ? "CRC-32 mismatch" : "does not inflate");
    return NULL;
  }
  out[e->size] = 0;
  *size = e->size;
  return out;
}
