#include "dg_memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

// The process's mapped address space (VmSize), from /proc/self/statm; 0 when unknown.
static uint64_t address_space_used(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long long pages = 0;
  if (f) {
    if (fscanf(f, "%llu", &pages) != 1) pages = 0;
    fclose(f);
  }
  long page = sysconf(_SC_PAGESIZE);
  return (uint64_t)pages * (uint64_t)(page > 0 ? page : 4096);
}

static uint64_t address_space_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) || rl.rlim_cur == RLIM_INFINITY) return UINT64_MAX;
  return (uint64_t)rl.rlim_cur;
}

uint64_t dg_memory_address_space_left(void) {
  uint64_t limit = address_space_limit(), used;
  if (limit == UINT64_MAX || !(used = address_space_used())) return UINT64_MAX;
  return used < limit ? limit - used : 0;
}

char *dg_memory_limit_note(char *buf, size_t cap) {
  uint64_t limit = address_space_limit();
  size_t n = strlen(buf);
  if (limit != UINT64_MAX && n < cap)
    snprintf(buf + n, cap - n, " (the address-space limit, ulimit -v, is %.0f MiB, %.0f MiB of it in use)",
             (double)limit / 1048576.0, (double)address_space_used() / 1048576.0);
  return buf;
}

dg_status dg_memory_need(const char *doing, uint64_t need) {
  uint64_t left = dg_memory_address_space_left();
  if (need <= left) return DG_OK;
  char note[160] = "";
  return dg_fail(DG_ERR_OOM, "%s needs %.0f MiB of address space, %.0f MiB are left%s", doing,
                 (double)need / 1048576.0, (double)left / 1048576.0, dg_memory_limit_note(note, sizeof note));
}

dg_status dg_memory_fail(const char *what, uint64_t bytes) {
  char note[160] = "";
  return dg_fail(DG_ERR_OOM, "out of host memory for %s (%.1f MiB)%s", what, (double)bytes / 1048576.0,
                 dg_memory_limit_note(note, sizeof note));
}

void *dg_memory_alloc(const char *what, size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p) dg_memory_fail(what, bytes);
  return p;
}
