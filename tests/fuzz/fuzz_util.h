// Shared by the libFuzzer targets (tests/fuzz/fuzz_*.c; tools/fuzz.sh builds and runs them).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "dg_status.h"

// The libFuzzer entry points every target defines.
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

// Called from LLVMFuzzerInitialize: GLib criticals (a json-glib or GLib API misused on hostile
// data) abort like any other bug; creates the temporary folder below.
void fuzz_init(void);

// A private folder for the inputs that a parser reads from files (created by fuzz_init in /dev/shm or
// $TMPDIR, removed at exit) and the path of `name` inside it. The path is the caller's to g_free.
const char *fuzz_dir(void);
char *fuzz_path(const char *name);
// Writes data to fuzz_path(name) (sub-folders of `name` must exist); returns that path.
char *fuzz_write(const char *name, const void *data, size_t size);

// Inputs made of several files hold them one after another, separated by FUZZ_SEPARATOR (the
// dictionaries know it). Fills up to `max` parts (pointers into data) and returns the count; missing
// parts are empty.
#define FUZZ_SEPARATOR "\n#next-file#\n"
typedef struct fuzz_part {
  const uint8_t *data;
  size_t size;
} fuzz_part;
int fuzz_split(const uint8_t *data, size_t size, fuzz_part *parts, int max);

// A NUL-terminated copy of data (malloc'd), for parsers that take C strings.
char *fuzz_strndup(const uint8_t *data, size_t size);

// A copy of a PNG file with each chunk's CRC recomputed (as far as the chunks fit), so that mutations
// reach the decoder instead of failing libpng's checksum test. Free with free().
uint8_t *fuzz_png_fix_crcs(const uint8_t *data, size_t size);

// A failure must carry a status and a message; aborts (a finding) otherwise.
void fuzz_expect_error(dg_status status, const char *what);
// Aborts with a message: an invariant the parser promises does not hold.
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
