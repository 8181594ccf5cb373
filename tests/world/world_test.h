// A minimal harness for tests that need no Vulkan device: counted checks and a summary.
#pragma once
#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int wt_checks, wt_failures;

#define WT_CHECK(cond, ...)                                                                                            \
  do {                                                                                                                 \
    wt_checks++;                                                                                                       \
    if (!(cond)) {                                                                                                     \
      wt_failures++;                                                                                                   \
      if (wt_failures <= 40) {                                                                                         \
        printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                                    \
        printf(__VA_ARGS__);                                                                                           \
        printf("\n");                                                                                                  \
      }                                                                                                                \
    }                                                                                                                  \
  } while (0)

// Expects status `want` with a message containing `needle` (if not NULL).
#define WT_EXPECT_ERROR(got, want, needle, what)                                                                       \
  do {                                                                                                                 \
    dg_status wt_s_ = (got);                                                                                           \
    const char *wt_n_ = (needle);                                                                                      \
    WT_CHECK(wt_s_ == (want) && (!wt_n_ || strstr(dg_last_error(), wt_n_)),                                            \
             "%s: got status %d '%s', expected %d with '%s'", what, wt_s_, dg_last_error(), want, wt_n_ ? wt_n_ : ""); \
  } while (0)

static inline int wt_finish(const char *name) {
  printf("%s: %d checks, %d failed\n", name, wt_checks, wt_failures);
  return wt_failures ? 1 : 0;
}

// The whole file, NUL-terminated (free with g_free); NULL if it cannot be read.
static inline char *wt_read_file(const char *path, size_t *n) {
  gchar *b = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &b, &len, NULL)) return NULL;
  *n = len;
  return b;
}
