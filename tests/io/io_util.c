#define _XOPEN_SOURCE 700
#include "io_util.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct io_entry {
  char *name, dtype[16];
  int ndim;
  int64_t shape[8];
  unsigned char *data;
  size_t bytes;
} io_entry;

struct io_writer {
  io_entry *e;
  size_t n, cap;
  char **meta;
  size_t nmeta;
};

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n);
  if (!p) {
    fprintf(stderr, "out of memory\n");
    abort();
  }
  return p;
}

io_writer *io_writer_new(void) { return xrealloc(calloc(1, sizeof(io_writer)), sizeof(io_writer)); }

void io_writer_free(io_writer *w) {
  if (!w) return;
  for (size_t i = 0; i < w->n; i++)
    free(w->e[i].name), free(w->e[i].data);
  for (size_t i = 0; i < 2 * w->nmeta; i++)
    free(w->meta[i]);
  free(w->meta);
  free(w->e);
  free(w);
}

void io_writer_add(io_writer *w, const char *name, const char *dtype, int ndim, const int64_t *shape, const void *data,
                   size_t bytes) {
  if (w->n == w->cap) w->cap = w->cap ? 2 * w->cap : 16, w->e = xrealloc(w->e, w->cap * sizeof *w->e);
  io_entry *e = &w->e[w->n++];
  memset(e, 0, sizeof *e);
  e->name = strdup(name);
  snprintf(e->dtype, sizeof e->dtype, "%s", dtype);
  e->ndim = ndim;
  if (ndim) memcpy(e->shape, shape, (size_t)ndim * sizeof *shape);
  e->bytes = bytes;
  e->data = xrealloc(NULL, bytes ? bytes : 1);
  if (data)
    memcpy(e->data, data, bytes);
  else
    memset(e->data, 0, bytes);
}

void io_writer_meta(io_writer *w, const char *key, const char *value) {
  w->meta = xrealloc(w->meta, (2 * w->nmeta + 2) * sizeof *w->meta);
  w->meta[2 * w->nmeta] = strdup(key);
  w->meta[2 * w->nmeta + 1] = strdup(value);
  w->nmeta++;
}

typedef struct sbuf {
  char *s;
  size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (b->len + (size_t)n + 1 > b->cap) {
    b->cap = (b->len + (size_t)n + 1) * 2;
    b->s = xrealloc(b->s, b->cap);
  }
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

unsigned char *io_writer_image(const io_writer *w, size_t *size) {
  sbuf h = {0};
  sb_printf(&h, "{");
  size_t off = 0;
  for (size_t i = 0; i < w->n; i++) {
    const io_entry *e = &w->e[i];
    sb_printf(&h, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", i ? "," : "", e->name, e->dtype);
    for (int d = 0; d < e->ndim; d++)
      sb_printf(&h, "%s%lld", d ? "," : "", (long long)e->shape[d]);
    sb_printf(&h, "],\"data_offsets\":[%zu,%zu]}", off, off + e->bytes);
    off += e->bytes;
  }
  if (w->nmeta) {
    sb_printf(&h, "%s\"__metadata__\":{", w->n ? "," : "");
    for (size_t i = 0; i < w->nmeta; i++)
      sb_printf(&h, "%s\"%s\":\"%s\"", i ? "," : "", w->meta[2 * i], w->meta[2 * i + 1]);
    sb_printf(&h, "}");
  }
  sb_printf(&h, "}");
  while (h.len % 8)
    sb_printf(&h, " ");
  unsigned char *img = xrealloc(NULL, 8 + h.len + off + 1);
  uint64_t n = h.len;
  memcpy(img, &n, 8);
  memcpy(img + 8, h.s, h.len);
  off = 8 + h.len;
  for (size_t i = 0; i < w->n; i++) {
    memcpy(img + off, w->e[i].data, w->e[i].bytes);
    off += w->e[i].bytes;
  }
  free(h.s);
  *size = off;
  return img;
}

bool io_writer_save(const io_writer *w, const char *path) {
  size_t size;
  unsigned char *img = io_writer_image(w, &size);
  bool ok = io_write_file(path, img, size);
  free(img);
  return ok;
}

unsigned char *io_image(uint64_t length_field, const char *header, const void *data, size_t data_size, size_t *size) {
  size_t hl = strlen(header);
  unsigned char *img = xrealloc(NULL, 8 + hl + data_size + 1);
  memcpy(img, &length_field, 8);
  memcpy(img + 8, header, hl);
  if (data_size) {
    if (data)
      memcpy(img + 8 + hl, data, data_size);
    else
      memset(img + 8 + hl, 0, data_size);
  }
  *size = 8 + hl + data_size;
  return img;
}

unsigned char *io_image_h(const char *header, const void *data, size_t data_size, size_t *size) {
  return io_image(strlen(header), header, data, data_size, size);
}

bool io_write_file(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f) return false;
  bool ok = fwrite(data, 1, size, f) == size;
  return fclose(f) == 0 && ok;
}

unsigned char *io_read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *d = xrealloc(NULL, (size_t)n + 1);
  *size = fread(d, 1, (size_t)n, f);
  fclose(f);
  return d;
}

char *io_tmpdir(void) {
  char tmpl[] = "/tmp/dg-io-test-XXXXXX";
  char *d = mkdtemp(tmpl);
  return d ? strdup(d) : NULL;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

void io_rmtree(const char *path) {
  if (path) nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

bool io_mkdirs(const char *path) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      mkdir(tmp, 0755);
      *p = '/';
    }
  return mkdir(tmp, 0755) == 0 || access(tmp, F_OK) == 0;
}

const char *io_path(const char *dir, const char *name) {
  static char buf[8][4096];
  static int i;
  i = (i + 1) % 8;
  snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
  return buf[i];
}
