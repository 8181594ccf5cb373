// Memory the process may still take, and out-of-memory errors that name the size. Under an
// address-space limit (RLIMIT_AS, `ulimit -v`) a CPU Vulkan driver such as lavapipe maps device memory
// into the process, so device allocations count against it as host ones do.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "dg_status.h"

// What lavapipe (Mesa 25.0) takes for itself, measured on 2 CPUs: creating its device maps about 460 MiB
// (worker threads and their malloc arenas), and compiling a shader tens of MiB. Its own allocations go
// unchecked (a crash, not an error), so a CPU device is refused before a call would leave less than these.
#define DG_MEMORY_CPU_DRIVER_START (512ull << 20)
#define DG_MEMORY_CPU_DRIVER_MARGIN (64ull << 20)

// Bytes of address space left under the process's limit; UINT64_MAX when there is none (or it cannot
// be read).
uint64_t dg_memory_address_space_left(void);
// Appends " (the address-space limit, ulimit -v, is L MiB, U MiB of it in use)" to buf when there is a
// limit; buf is left as it is otherwise. Returns buf.
char *dg_memory_limit_note(char *buf, size_t cap);
// DG_OK when `need` bytes of address space are left; else DG_ERR_OOM with "DOING needs N MiB of
// address space" and the limit note.
dg_status dg_memory_need(const char *doing, uint64_t need);
// DG_ERR_OOM with "out of host memory for WHAT (N MiB)" and the limit note.
dg_status dg_memory_fail(const char *what, uint64_t bytes);
// malloc, or NULL with the error of dg_memory_fail set.
void *dg_memory_alloc(const char *what, size_t bytes);
