#include "dg_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int checks, failures;

bool dg_check(bool ok, const char *fmt, ...) {
  checks++;
  if (!ok) {
    failures++;
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
  }
  return ok;
}

const char *dg_check_path(const char *dir, const char *name) {
  static char path[4][1024];
  static int k;
  k = (k + 1) % 4;
  snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
  return path[k];
}

bool dg_check_error(dg_status got, dg_status want, const char *needle, const char *what) {
  const char *msg = dg_last_error();
  return dg_check(got == want && msg[0] && (!needle || strstr(msg, needle)),
                  "%s: expected '%s' error mentioning '%s', got %s: '%s'", what, dg_status_name(want),
                  needle ? needle : "", dg_status_name(got), msg);
}

bool dg_check_status(dg_status got, const char *what) {
  return dg_check(got == DG_OK, "%s: %s (%s)", what, dg_status_name(got), dg_last_error());
}

int dg_check_finish(const char *name) {
  printf("%s: %d checks, %d failed\n", name, checks, failures);
  return failures ? 1 : 0;
}
