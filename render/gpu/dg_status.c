#include "dg_status.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[1024];

dg_status dg_fail(dg_status status, const char *fmt, ...) {
  char msg[sizeof last_error]; // formatted apart, so an argument may be dg_last_error() itself
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  memcpy(last_error, msg, sizeof msg);
  return status;
}

const char *dg_last_error(void) { return last_error; }

void dg_clear_error(void) { last_error[0] = '\0'; }

const char *dg_status_name(dg_status status) {
  switch (status) {
  case DG_OK: return "ok";
  case DG_ERR_ARG: return "invalid argument";
  case DG_ERR_OOM: return "out of memory";
  case DG_ERR_VULKAN: return "vulkan error";
  case DG_ERR_IO: return "i/o error";
  case DG_ERR_FORMAT: return "malformed file";
  case DG_ERR_CANCELLED: return "cancelled";
  case DG_ERR_UNSUPPORTED: return "unsupported";
  }
  return "unknown status";
}
