#include "dg_settings.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

dg_status dg_settings_parse_seed(const char *what, const char *text, uint64_t *out) {
  guint64 v = 0;
  bool digits = *text != 0;
  for (const char *p = text; *p && digits; p++)
    digits = *p >= '0' && *p <= '9';
  if (!digits || !g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &v, NULL))
    return dg_fail(DG_ERR_ARG, "%s '%s': a seed is a whole number from 0 to %" G_GUINT64_FORMAT, what, text,
                   G_MAXUINT64);
  *out = v;
  return DG_OK;
}

dg_status dg_settings_check_steps(const char *what, long steps) {
  if (steps >= 1 && steps <= DG_SETTINGS_MAX_STEPS) return DG_OK;
  return dg_fail(DG_ERR_ARG, "%s %ld: steps are a whole number from 1 to %d", what, steps, DG_SETTINGS_MAX_STEPS);
}

dg_status dg_settings_check_guidance(const char *what, double guidance) {
  if (guidance >= 0 && guidance <= DG_SETTINGS_MAX_GUIDANCE) return DG_OK;
  return dg_fail(DG_ERR_ARG, "%s %g: guidance is a number from 0 to %g", what, guidance, DG_SETTINGS_MAX_GUIDANCE);
}

dg_status dg_settings_check_control_scale(const char *what, double scale) {
  if (scale > 0 && scale <= DG_SETTINGS_MAX_CONTROL_SCALE) return DG_OK;
  return dg_fail(DG_ERR_ARG, "%s %g: the layout ControlNet's scale is a number above 0, at most %g", what, scale,
                 DG_SETTINGS_MAX_CONTROL_SCALE);
}

// A whole decimal number in lo..hi (no spaces), else an error stating `rule`.
static dg_status parse_long(const char *what, const char *text, long lo, long hi, const char *rule, long *out) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (!*text || *end || errno || g_ascii_isspace(*text) || v < lo || v > hi)
    return dg_fail(DG_ERR_ARG, "%s '%s': %s", what, text, rule);
  *out = v;
  return DG_OK;
}

dg_status dg_settings_parse_steps(const char *what, const char *text, int *out) {
  char rule[64];
  long v;
  snprintf(rule, sizeof rule, "steps are a whole number from 1 to %d", DG_SETTINGS_MAX_STEPS);
  DG_TRY(parse_long(what, text, 1, DG_SETTINGS_MAX_STEPS, rule, &v));
  *out = (int)v;
  return DG_OK;
}

dg_status dg_settings_parse_side(const char *what, const char *text, int *out) {
  char rule[96];
  long v;
  snprintf(rule, sizeof rule, "an image side is a whole number from 1 to %d (the model sets the multiple)",
           DG_GENERATE_MAX_SIDE);
  DG_TRY(parse_long(what, text, 1, DG_GENERATE_MAX_SIDE, rule, &v));
  *out = (int)v;
  return DG_OK;
}

dg_status dg_settings_parse_guidance(const char *what, const char *text, double *out) {
  char *end;
  double v = strtod(text, &end);
  if (!*text || *end || g_ascii_isspace(*text))
    return dg_fail(DG_ERR_ARG, "%s '%s': guidance is a number from 0 to %g", what, text, DG_SETTINGS_MAX_GUIDANCE);
  DG_TRY(dg_settings_check_guidance(what, v));
  *out = v;
  return DG_OK;
}

dg_status dg_settings_parse_control_scale(const char *what, const char *text, double *out) {
  char *end;
  double v = strtod(text, &end);
  if (!*text || *end || g_ascii_isspace(*text) || !(v > 0 && v <= DG_SETTINGS_MAX_CONTROL_SCALE))
    return dg_fail(DG_ERR_ARG, "%s '%s': the layout ControlNet's scale is a number above 0, at most %g", what, text,
                   DG_SETTINGS_MAX_CONTROL_SCALE);
  *out = v;
  return DG_OK;
}

dg_status dg_settings_check_text(const char *what, const char *text) {
  const char *bad;
  if (g_utf8_validate(text, -1, &bad)) return DG_OK;
  return dg_fail(DG_ERR_ARG, "the %s is not valid UTF-8 at byte %d", what, (int)(bad - text));
}

dg_status dg_settings_check_size(const char *model, const dg_model_options *o, const dg_device *device, int width,
                                 int height) {
  dg_model_sizes sizes;
  DG_TRY(dg_model_set_check_sizes(model, o, NULL, 0, &sizes));
  return dg_model_sizes_check(&sizes, dg_generate_max_binding(device), o ? o->dtype : DG_F32, width, height);
}

// The folder a path's file goes in must exist and take a new file: one is created there and removed
// (permissions, a read-only file system, a full inode table: whatever would stop the real write).
static dg_status writable_dir(const char *what, const char *path, const char *dir) {
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
    return dg_fail(DG_ERR_IO, "%s %s: the folder %s does not exist", what, path, dir);
  char *name = g_strdup_printf(".dirigent-write-check-%d", (int)getpid()), *probe = g_build_filename(dir, name, NULL);
  int fd = g_open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600), err = errno;
  if (fd >= 0) close(fd), g_unlink(probe);
  g_free(name), g_free(probe);
  if (fd < 0) return dg_fail(DG_ERR_IO, "%s %s: cannot write in %s: %s", what, path, dir, g_strerror(err));
  return DG_OK;
}

dg_status dg_settings_check_output(const char *what, const char *path) {
  if (!path || !*path) return dg_fail(DG_ERR_ARG, "%s: no file name given", what);
  size_t n = strlen(path);
  if (path[n - 1] == G_DIR_SEPARATOR || g_file_test(path, G_FILE_TEST_IS_DIR))
    return dg_fail(DG_ERR_ARG, "%s %s is a folder; give a file name", what, path);
  char *dir = g_path_get_dirname(path);
  dg_status s = writable_dir(what, path, dir);
  g_free(dir);
  return s;
}

dg_status dg_settings_check_output_dir(const char *what, const char *dir) {
  if (!dir || !*dir) return dg_fail(DG_ERR_ARG, "%s: no folder given", what);
  if (g_mkdir_with_parents(dir, 0755))
    return dg_fail(DG_ERR_IO, "%s %s: cannot create the folder: %s", what, dir, strerror(errno));
  return writable_dir(what, dir, dir);
}

dg_status dg_settings_guidance_marks(dg_guidance_kind kind, const char *marks, const char *prompt,
                                     const char *const *classes, int n_classes, const char *what, const char *how,
                                     char **out, bool *suggested) {
  *suggested = false;
  char *text = g_strstrip(g_strdup(marks ? marks : ""));
  if (!*text && kind != DG_GUIDANCE_NONE) {
    g_free(text);
    text = dg_marks_suggest(prompt ? prompt : "", classes, n_classes);
    *suggested = *text != '\0';
  }
  if (!*text && kind != DG_GUIDANCE_NONE) {
    g_free(text);
    *out = NULL;
    return dg_fail(DG_ERR_ARG, "%s needs at least one marked object: %s (none of the prompt's words names a class "
                               "to suggest)", what, how);
  }
  *out = text;
  return DG_OK;
}
