// Helpers for the world tests (no Vulkan device); checks come from tests/common/dg_check.h.
#pragma once
#include <glib.h>

#include "dg_check.h"
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

// The whole file, NUL-terminated (free with g_free); NULL if it cannot be read.
static inline char *wt_read_file(const char *path, size_t *n) {
  gchar *b = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &b, &len, NULL)) return NULL;
  *n = len;
  return b;
}
