// Status codes and the thread-local error message every layer below app/ reports through.
#pragma once
#include <stdarg.h>

typedef enum dg_status {
  DG_OK = 0,
  DG_ERR_ARG,         // a bad argument (shape, dtype, value)
  DG_ERR_OOM,         // host or device memory exhausted
  DG_ERR_VULKAN,      // a Vulkan call failed or no device exists
  DG_ERR_IO,          // a file could not be read or written
  DG_ERR_FORMAT,      // a file's contents are malformed
  DG_ERR_CANCELLED,   // the job's cancellation flag was raised
  DG_ERR_UNSUPPORTED, // valid but not implemented or not supported by the device
} dg_status;

// Sets the calling thread's error message and returns `status`, so callers can write
// `return dg_fail(DG_ERR_ARG, "conv2d: weight has %d dims", n);`. An argument may be dg_last_error(),
// to put context before an earlier message.
dg_status dg_fail(dg_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// The calling thread's last error message ("" if none).
const char *dg_last_error(void);
void dg_clear_error(void);
const char *dg_status_name(dg_status status);

#define DG_TRY(expr)                                                                                     \
  do {                                                                                                   \
    dg_status dg_try_s_ = (expr);                                                                        \
    if (dg_try_s_ != DG_OK) return dg_try_s_;                                                            \
  } while (0)
