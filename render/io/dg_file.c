#include "dg_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind(mode_t m) {
  return S_ISDIR(m)    ? "a directory"
         : S_ISFIFO(m) ? "a FIFO"
         : S_ISCHR(m)  ? "a character device"
         : S_ISBLK(m)  ? "a block device"
         : S_ISSOCK(m) ? "a socket"
                       : "not a plain file";
}

static dg_status not_regular(const char *path, mode_t m) {
  return dg_fail(DG_ERR_IO, "%s: not a regular file (%s)", path, kind(m));
}

dg_status dg_file_open(const char *path, int *fd, size_t *size) {
  *fd = -1;
  if (!path) return dg_fail(DG_ERR_ARG, "dg_file_open: NULL path");
  struct stat sb;
  if (stat(path, &sb) != 0) return dg_fail(DG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  if (!S_ISREG(sb.st_mode)) return not_regular(path, sb.st_mode);
  // Checked again on the descriptor: the path may have been replaced in between.
  int f = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (f < 0) return dg_fail(DG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  if (fstat(f, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(f);
    return not_regular(path, sb.st_mode);
  }
  int flags = fcntl(f, F_GETFL);
  if (flags >= 0) fcntl(f, F_SETFL, flags & ~O_NONBLOCK);
  *fd = f;
  *size = (size_t)sb.st_size;
  return DG_OK;
}

dg_status dg_file_fopen(const char *path, FILE **out) {
  *out = NULL;
  int fd;
  size_t size;
  DG_TRY(dg_file_open(path, &fd, &size));
  if (!(*out = fdopen(fd, "rb"))) {
    close(fd);
    return dg_fail(DG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  }
  return DG_OK;
}

static dg_status too_large(const char *path, size_t size, size_t max_bytes) {
  return dg_fail(DG_ERR_FORMAT, "%s: %zu bytes, more than the limit of %zu bytes for this file", path, size, max_bytes);
}

dg_status dg_file_read(const char *path, size_t max_bytes, char **data, size_t *size) {
  *data = NULL;
  *size = 0;
  int fd;
  size_t n = 0, cap;
  DG_TRY(dg_file_open(path, &fd, &cap));
  if (cap > max_bytes) {
    close(fd);
    return too_large(path, cap, max_bytes);
  }
  cap = cap ? cap + 1 : 4096; // + 1: the end of the file is seen without growing
  char *buf = malloc(cap + 1);
  dg_status s = buf ? DG_OK : dg_fail(DG_ERR_OOM, "%s: out of memory for %zu bytes", path, cap);
  while (s == DG_OK) {
    if (n == cap) { // the file grew (or its size was not known)
      char *grown = cap <= max_bytes ? realloc(buf, 2 * cap + 1) : NULL;
      if (!grown)
        s = cap > max_bytes ? too_large(path, n, max_bytes) : dg_fail(DG_ERR_OOM, "%s: out of memory", path);
      else
        buf = grown, cap *= 2;
      continue;
    }
    ssize_t got = read(fd, buf + n, cap - n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) s = dg_fail(DG_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    if (got <= 0) break;
    n += (size_t)got;
  }
  close(fd);
  if (s == DG_OK && n > max_bytes) s = too_large(path, n, max_bytes);
  if (s != DG_OK) {
    free(buf);
    return s;
  }
  buf[n] = 0;
  *data = buf;
  *size = n;
  return DG_OK;
}

dg_status dg_file_map(const char *path, const void **data, size_t *size) {
  *data = NULL;
  *size = 0;
  int fd;
  size_t n;
  DG_TRY(dg_file_open(path, &fd, &n));
  if (n) {
    void *m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      int e = errno;
      close(fd);
      return dg_fail(DG_ERR_IO, "%s: mmap of %zu bytes failed: %s", path, n, strerror(e));
    }
    *data = m;
  }
  close(fd);
  *size = n;
  return DG_OK;
}

void dg_file_unmap(const void *data, size_t size) {
  if (data && size) munmap((void *)data, size);
}
