#include "dg_assets.h"

#include <glib.h>

#include "dg_paths.h"

char *dg_assets_path(const char *relative) {
  const char *dirs[3] = {g_getenv("DIRIGENT_ASSETS"), DG_SOURCE_ASSETS, DG_INSTALLED_ASSETS};
  char *fallback = NULL;
  for (int i = 0; i < 3; i++) {
    if (!dirs[i] || !*dirs[i]) continue;
    char *path = g_build_filename(dirs[i], relative, NULL);
    if (g_file_test(path, G_FILE_TEST_EXISTS)) {
      g_free(fallback);
      return path;
    }
    if (!fallback && g_file_test(dirs[i], G_FILE_TEST_IS_DIR)) fallback = path;
    else g_free(path);
  }
  return fallback ? fallback : g_build_filename(DG_SOURCE_ASSETS, relative, NULL);
}
