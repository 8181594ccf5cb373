#include "fuzz_util.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char *dir;

static void remove_tree(const char *path) {
  GDir *d = g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)
                ? g_dir_open(path, 0, NULL)
                : NULL;
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    char *p = g_build_filename(path, name, NULL);
    remove_tree(p);
    g_free(p);
  }
  if (d) {
    g_dir_close(d);
    g_rmdir(path);
  } else
    g_unlink(path);
}

static void remove_dir(void) {
  if (!dir) return;
  remove_tree(dir);
  g_free(dir);
  dir = NULL;
}

// GLib's own fatal path ends in a breakpoint trap, which libFuzzer does not catch (no input saved):
// criticals and errors abort here instead; other messages are dropped.
static void on_log(const char *domain, GLogLevelFlags level, const char *message, gpointer user) {
  (void)user;
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)) fuzz_fail("%s: %s", domain ? domain : "GLib", message);
}

static GLogWriterOutput on_structured_log(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer user) {
  const char *domain = NULL, *message = "";
  for (gsize i = 0; i < n; i++)
    if (!strcmp(fields[i].key, "GLIB_DOMAIN")) domain = fields[i].value;
    else if (!strcmp(fields[i].key, "MESSAGE")) message = fields[i].value;
  on_log(domain, level, message, user);
  return G_LOG_WRITER_HANDLED;
}

// A run stopped by a finding exits without atexit handlers: folders dg-fuzz-PID-* in `parent` whose
// process is gone are removed by the next run.
static void remove_stale(const char *parent) {
  GDir *d = g_dir_open(parent, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    long pid;
    int n = 0;
    if (sscanf(name, "dg-fuzz-%ld-%n", &pid, &n) != 1 || n == 0 || pid <= 0) continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
    char *p = g_build_filename(parent, name, NULL);
    remove_tree(p);
    g_free(p);
  }
  if (d) g_dir_close(d);
}

void fuzz_init(void) {
  g_log_set_default_handler(on_log, NULL);
  g_log_set_writer_func(on_structured_log, NULL, NULL);
  if (dir) return;
  // In memory where there is /dev/shm: a file written per input to a disk folder can cost 10x the parse.
  const char *parents[] = {"/dev/shm", g_get_tmp_dir()};
  for (int i = 0; i < 2 && !dir; i++) {
    remove_stale(parents[i]);
    char *name = g_strdup_printf("dg-fuzz-%ld-XXXXXX", (long)getpid());
    dir = g_build_filename(parents[i], name, NULL);
    g_free(name);
    if (!g_mkdtemp(dir)) g_clear_pointer(&dir, g_free);
  }
  if (!dir) fuzz_fail("cannot create a temporary folder");
  atexit(remove_dir);
}

const char *fuzz_dir(void) { return dir; }

char *fuzz_path(const char *name) { return g_build_filename(dir, name, NULL); }

char *fuzz_write(const char *name, const void *data, size_t size) {
  char *path = fuzz_path(name);
  FILE *f = fopen(path, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) fuzz_fail("cannot write %s", path);
  return path;
}

int fuzz_split(const uint8_t *data, size_t size, fuzz_part *parts, int max) {
  const size_t sep = strlen(FUZZ_SEPARATOR);
  int n = 0;
  for (int i = 0; i < max; i++)
    parts[i] = (fuzz_part){(const uint8_t *)"", 0};
  while (n < max) {
    const uint8_t *end = n + 1 < max ? memmem(data, size, FUZZ_SEPARATOR, sep) : NULL;
    parts[n++] = (fuzz_part){data, end ? (size_t)(end - data) : size};
    if (!end) break;
    size -= (size_t)(end - data) + sep;
    data = end + sep;
  }
  return n;
}

char *fuzz_strndup(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) abort();
  if (size) memcpy(s, data, size);
  s[size] = 0;
  return s;
}

uint8_t *fuzz_png_fix_crcs(const uint8_t *data, size_t size) {
  uint8_t *copy = (uint8_t *)fuzz_strndup(data, size);
  for (size_t p = 8; p + 12 <= size;) {
    uint32_t len = (uint32_t)copy[p] << 24 | (uint32_t)copy[p + 1] << 16 | (uint32_t)copy[p + 2] << 8 | copy[p + 3];
    if ((uint64_t)len + 12 > size - p) break;
    uint32_t crc = (uint32_t)crc32(0, copy + p + 4, len + 4);
    uint8_t *c = copy + p + 8 + len;
    c[0] = (uint8_t)(crc >> 24), c[1] = (uint8_t)(crc >> 16), c[2] = (uint8_t)(crc >> 8), c[3] = (uint8_t)crc;
    p += (size_t)len + 12;
  }
  return copy;
}

void fuzz_expect_error(dg_status status, const char *what) {
  if (status == DG_OK || !dg_last_error()[0])
    fuzz_fail("%s failed with status %s and no message", what, dg_status_name(status));
}

void fuzz_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "fuzz: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  abort();
}
