// Project files: exact round trip, atomic save, strict rejection of malformed files.
#include <glib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dg_check.h"
#include "dg_project.h"

static dg_document *sample(void) {
  dg_document *d = dg_document_new(128, 256);
  dg_document_fill_rect(d, 0, 0, 255, 60, 0);
  dg_document_paint_line(d, 10, 100, 200, 90, 6, 9);
  double poly[] = {30, 70, 90, 65, 120, 120, 20, 110};
  dg_document_fill_polygon(d, poly, 4, 4);
  dg_document_set_text(d, DG_FIELD_PROMPT, "a red car on a snowy street at night, \"quoted\" \\ \xc3\xa9\n", false);
  dg_document_set_text(d, DG_FIELD_NEGATIVE, "blurry", false);
  dg_document_set_text(d, DG_FIELD_MODEL, "world-aldm", false);
  dg_document_set_seed(d, 18446744073709551557ull);
  dg_document_set_steps(d, 33);
  dg_document_set_guidance(d, 0.1 + 0.2); // not exactly representable in short decimal
  for (int k = 0; k < 2; k++) {
    dg_result r = {.width = 64, .height = 32, .seed = 42 + k, .steps = 10, .guidance = 5};
    r.rgba = malloc(64 * 32 * 4);
    for (int i = 0; i < 64 * 32 * 4; i++)
      r.rgba[i] = (uint8_t)(i * 31 + k);
    r.prompt = strdup("p"), r.negative = strdup(""), r.model = strdup("m");
    dg_document_add_result(d, &r);
  }
  dg_document_set_current_result(d, 0);
  return d;
}

static bool equal_docs(const dg_document *a, const dg_document *b) {
  if (dg_document_width(a) != dg_document_width(b) || dg_document_height(a) != dg_document_height(b)) return false;
  if (memcmp(dg_document_layout(a), dg_document_layout(b), (size_t)dg_document_width(a) * dg_document_height(a)))
    return false;
  if (strcmp(dg_document_prompt(a), dg_document_prompt(b)) ||
      strcmp(dg_document_negative(a), dg_document_negative(b)) || strcmp(dg_document_model(a), dg_document_model(b)))
    return false;
  if (dg_document_seed(a) != dg_document_seed(b) || dg_document_seed_random(a) != dg_document_seed_random(b) ||
      dg_document_steps(a) != dg_document_steps(b) || dg_document_guidance(a) != dg_document_guidance(b))
    return false;
  if (dg_document_result_count(a) != dg_document_result_count(b) ||
      dg_document_current_result(a) != dg_document_current_result(b))
    return false;
  for (int i = 0; i < dg_document_result_count(a); i++) {
    const dg_result *x = dg_document_result(a, i), *y = dg_document_result(b, i);
    if (x->width != y->width || x->height != y->height || x->seed != y->seed || x->steps != y->steps ||
        x->guidance != y->guidance || strcmp(x->prompt, y->prompt) ||
        memcmp(x->rgba, y->rgba, (size_t)x->width * x->height * 4))
      return false;
  }
  return true;
}

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "test_project: FAIL: blocked for 30 s (a FIFO or device read as a project?)\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(1);
}

// Hostile inputs (issue "hostile and careless inputs", items 1, 6 and 8): each is refused with a message
// naming the problem, at once, and the file is left as it was.
static void hostile(const char *dir) {
  dg_status st;
  // 1. {"x": and 200000 '[': json-glib recursed once per level and overflowed the stack.
  size_t n = 200006;
  char *deep = malloc(n);
  memcpy(deep, "{\"x\": ", 6);
  memset(deep + 6, '[', n - 6);
  dg_document *bad = dg_project_parse(deep, n, &st);
  dg_check(!bad && st == DG_ERR_FORMAT && strstr(dg_last_error(), "JSON nested deeper than the limit of 64 levels"),
           "deeply nested project: %s", bad ? "accepted" : dg_last_error());
  char *deep_path = g_build_filename(dir, "deep.dirigent", NULL);
  g_file_set_contents(deep_path, deep, (gssize)n, NULL);
  bad = dg_project_load(deep_path, &st);
  dg_check(!bad && strstr(dg_last_error(), deep_path) && strstr(dg_last_error(), "nested deeper"),
           "the message names the file: %s", dg_last_error());
  gchar *after = NULL;
  gsize after_len = 0;
  g_file_get_contents(deep_path, &after, &after_len, NULL);
  dg_check(after_len == n && !memcmp(after, deep, n), "a refused file is left as it was");
  g_free(after);
  unlink(deep_path);
  g_free(deep_path);
  free(deep);

  // 8. A decompression bomb: 40 results claiming 4096x4096 (2.5 GiB of RGBA8) in a small file. Refused
  // from the sizes, before any image is decoded: the data of results[0] is not even valid.
  dg_document *d = dg_document_new(128, 256);
  size_t len;
  char *text = dg_project_serialize(d, &len);
  dg_document_free(d);
  char *at = strstr(text, "\"results\" : [");
  char *close = at ? strchr(at, ']') : NULL;
  dg_check(close != NULL, "results array in the file");
  if (close) {
    GString *s = g_string_new_len(text, at - text);
    g_string_append(s, "\"results\" : [");
    for (int i = 0; i < 40; i++)
      g_string_append_printf(s,
                             "%s{\"width\": 4096, \"height\": 4096, \"seed\": \"1\", \"steps\": 1, \"guidance\": 1, "
                             "\"prompt\": \"\", \"negative_prompt\": \"\", \"model\": \"\", "
                             "\"encoding\": \"rgba8-zlib-base64\", \"data\": \"AAAA\"}",
                             i ? ", " : "");
    g_string_append(s, close);
    bad = dg_project_parse(s->str, s->len, &st);
    dg_check(!bad && st == DG_ERR_FORMAT && strstr(dg_last_error(), "results[7]: its 4096x4096 (WxH) pixels") &&
                 strstr(dg_last_error(), "limit of 512 MiB"),
             "decompression bomb: %s", bad ? "accepted" : dg_last_error());
    g_string_free(s, TRUE);
  }
  free(text);

  // 6. A FIFO (no writer), a device and a directory as the project: refused at once, naming the path.
  char *fifo = g_build_filename(dir, "fifo.dirigent", NULL);
  dg_check(mkfifo(fifo, 0600) == 0, "mkfifo");
  signal(SIGALRM, on_alarm);
  alarm(30);
  const char *paths[] = {fifo, "/dev/zero", dir}, *kinds[] = {"(a FIFO)", "(a character device)", "(a directory)"};
  for (int i = 0; i < 3; i++) {
    bad = dg_project_load(paths[i], &st);
    dg_check(!bad && st == DG_ERR_IO && strstr(dg_last_error(), paths[i]) && strstr(dg_last_error(), kinds[i]),
             "%s as a project: %s", paths[i], bad ? "accepted" : dg_last_error());
  }
  alarm(0);
  unlink(fifo);
  g_free(fifo);
}

int main(void) {
  char *dir = g_dir_make_tmp("dg-project-XXXXXX", NULL);
  hostile(dir);
  char *path = g_build_filename(dir, "scene.dirigent", NULL);
  dg_document *d = sample();
  dg_status st = dg_project_save(d, path);
  dg_check(st == DG_OK, "save: %s", dg_last_error());
  dg_document *e = dg_project_load(path, &st);
  dg_check(e && equal_docs(d, e), "round trip: %s", e ? "differs" : dg_last_error());
  dg_check(e && !dg_document_can_undo(e), "an opened document starts with an empty history");
  // Saving what was opened gives the same bytes.
  size_t la, lb;
  char *ta = dg_project_serialize(d, &la), *tb = e ? dg_project_serialize(e, &lb) : NULL;
  dg_check(tb && la == lb && !memcmp(ta, tb, la), "re-serialisation is byte-identical");
  // The layout is stored compactly (run-length), not as 32768 raw bytes in base64.
  dg_check(la < 40000, "file is %zu bytes", la);

  // A failed save leaves the old file untouched and no temporary file behind.
  gchar *before = NULL;
  gsize before_len = 0;
  g_file_get_contents(path, &before, &before_len, NULL);
  dg_document_set_text(e, DG_FIELD_PROMPT, "changed", false);
  dg_project_inject_write_failure(100);
  st = dg_project_save(e, path);
  dg_check(st == DG_ERR_IO, "injected failure not reported");
  gchar *after = NULL;
  gsize after_len = 0;
  g_file_get_contents(path, &after, &after_len, NULL);
  dg_check(after && after_len == before_len && !memcmp(before, after, before_len), "old file damaged by a failed save");
  GDir *gd = g_dir_open(dir, 0, NULL);
  int files = 0;
  while (g_dir_read_name(gd))
    files++;
  g_dir_close(gd);
  dg_check(files == 1, "%d files in the directory after a failed save", files);
  dg_check(dg_project_save(d, "/nonexistent-dir/x.dirigent") == DG_ERR_IO, "save into a missing directory");

  // Malformed files: each is rejected with a message naming the problem.
  struct {
    const char *edit_from, *edit_to, *needle;
  } cases[] = {
      {"\"format\" : \"dirigent-project\"", "\"format\" : \"other\"", "format"},
      {"\"steps\" : 33", "\"steps\" : 0", "steps"},
      {"\"steps\" : 33", "\"steps\" : \"33\"", "steps"},
      {"\"width\" : 256", "\"width\" : 255", "run-length"},
      {"\"seed\" : \"18446744073709551557\"", "\"seed\" : \"-1\"", "seed"},
      {"\"current_result\" : 0", "\"current_result\" : 2", "current_result"},
      {"\"encoding\" : \"rle8-base64\"", "\"encoding\" : \"png\"", "encoding"},
      {"\"version\" : 1", "\"version\" : 2", "newer"},
      {"\"model\" : \"world-aldm\"", "\"model\" : 5", "model"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *at = strstr(ta, cases[i].edit_from);
    dg_check(at != NULL, "case %zu: '%s' not in the file", i, cases[i].edit_from);
    if (!at) continue;
    GString *s = g_string_new_len(ta, at - ta);
    g_string_append(s, cases[i].edit_to);
    g_string_append(s, at + strlen(cases[i].edit_from));
    dg_document *bad = dg_project_parse(s->str, s->len, &st);
    dg_check(!bad && st == DG_ERR_FORMAT && strstr(dg_last_error(), cases[i].needle), "case %zu: %s", i,
             bad ? "accepted" : dg_last_error());
    dg_document_free(bad);
    g_string_free(s, TRUE);
  }
  const char *garbage[] = {"", "{", "null", "[1,2]", "{\"format\": \"dirigent-project\"}", "\x89PNG\r\n\x1a\n"};
  for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
    dg_document *bad = dg_project_parse(garbage[i], strlen(garbage[i]), &st);
    dg_check(!bad && *dg_last_error(), "garbage %zu accepted", i);
  }
  char *bad_path = g_build_filename(dir, "broken.dirigent", NULL);
  g_file_set_contents(bad_path, "{\"format\": 3}", -1, NULL);
  dg_check(!dg_project_load(bad_path, &st) && strstr(dg_last_error(), "broken.dirigent"), "message names the file: %s",
           dg_last_error());

  free(ta), free(tb);
  g_free(before), g_free(after);
  unlink(path), unlink(bad_path);
  rmdir(dir);
  g_free(dir), g_free(path), g_free(bad_path);
  dg_document_free(d);
  dg_document_free(e);
  return dg_check_finish("test_project");
}
