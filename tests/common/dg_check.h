// Counted checks shared by every test program (no GPU needed): a failed check prints its message
// and the program goes on, so one run reports every failure. GPU tests add tests/unit/dg_test.h.
#pragma once
#include <stdbool.h>

#include "dg_status.h"

// Records a check; prints the message on failure. Returns ok.
bool dg_check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Expects status `want` and a non-empty message containing `needle` (NULL: any message).
bool dg_check_error(dg_status got, dg_status want, const char *needle, const char *what);
// Expects DG_OK; on failure prints the status and message.
bool dg_check_status(dg_status got, const char *what);
// "DIR/NAME" in one of 4 rotating static buffers, so one call may use up to four such paths at once.
const char *dg_check_path(const char *dir, const char *name);
// Prints "NAME: N checks, M failed" and returns the exit status (0 when nothing failed).
int dg_check_finish(const char *name);
