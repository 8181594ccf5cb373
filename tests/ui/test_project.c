// Project files: exact round trip of a bundle, atomic save (a failed write leaves the old bundle as it
// was), saving off the calling thread on a snapshot, opening an old single-file (version 1) project,
// strict rejection of malformed and hostile files.
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dg_bundle.h"
#include "dg_check.h"
#include "dg_project.h"
#include "dg_project_async.h"
#include "dg_style_edit.h"

// The old-format project, written by the version 1 writer (f30ba74) from sample() below.
#define OLD_PROJECT DG_SOURCE_DIR "/tests/ui/data/project-v1.dirigent"

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
      strcmp(dg_document_negative(a), dg_document_negative(b)) || strcmp(dg_document_model(a), dg_document_model(b)) ||
      strcmp(dg_document_marks(a), dg_document_marks(b)) ||
      strcmp(dg_document_attn_guidance(a), dg_document_attn_guidance(b)))
    return false;
  if (dg_document_seed(a) != dg_document_seed(b) || dg_document_seed_random(a) != dg_document_seed_random(b) ||
      dg_document_steps(a) != dg_document_steps(b) || dg_document_guidance(a) != dg_document_guidance(b) ||
      dg_document_control_scale(a) != dg_document_control_scale(b) || dg_document_live(a) != dg_document_live(b))
    return false;
  if (dg_document_result_count(a) != dg_document_result_count(b) ||
      dg_document_current_result(a) != dg_document_current_result(b))
    return false;
  for (int i = 0; i < dg_document_result_count(a); i++) {
    const dg_result *x = dg_document_result(a, i), *y = dg_document_result(b, i);
    if (x->width != y->width || x->height != y->height || x->seed != y->seed || x->steps != y->steps ||
        x->guidance != y->guidance || x->control_scale != y->control_scale || strcmp(x->prompt, y->prompt) ||
        memcmp(x->rgba, y->rgba, (size_t)x->width * x->height * 4))
      return false;
  }
  return true;
}

static char *read_all(const char *path, size_t *len) {
  gchar *data = NULL;
  gsize n = 0;
  if (!g_file_get_contents(path, &data, &n, NULL)) return NULL;
  *len = n;
  return data;
}

static int files_in(const char *dir) {
  GDir *gd = g_dir_open(dir, 0, NULL);
  int files = 0;
  while (g_dir_read_name(gd))
    files++;
  g_dir_close(gd);
  return files;
}

// The bundle with entry `name` replaced by `data` (or dropped when data is NULL); malloc'd.
static char *rebundle(const char *bundle, size_t len, const char *name, const char *data, size_t data_len,
                      size_t *out_len) {
  dg_bundle *b = dg_bundle_open((const uint8_t *)bundle, len);
  dg_bundle_writer *w = dg_bundle_writer_new();
  for (int i = 0; b && i < dg_bundle_count(b); i++) {
    const char *entry = dg_bundle_name(b, i);
    size_t n;
    uint8_t *bytes = dg_bundle_read(b, entry, DG_PROJECT_MAX_ENTRY, &n);
    if (strcmp(entry, name))
      dg_bundle_writer_add(w, entry, bytes, n);
    else if (data)
      dg_bundle_writer_add(w, entry, data, data_len);
    free(bytes);
  }
  dg_bundle_free(b);
  return (char *)dg_bundle_writer_finish(w, out_len);
}

// `text` with the first `from` replaced by `to`; NULL if `from` is not in it.
static GString *edited(const char *text, size_t len, const char *from, const char *to) {
  const char *at = g_strstr_len(text, (gssize)len, from);
  if (!at) return NULL;
  GString *s = g_string_new_len(text, at - text);
  g_string_append(s, to);
  g_string_append_len(s, at + strlen(from), (gssize)(len - (size_t)(at - text) - strlen(from)));
  return s;
}

static void expect_rejected(const char *data, size_t len, const char *needle, const char *what) {
  dg_status st;
  dg_document *bad = dg_project_parse(data, len, &st);
  dg_check(!bad && st == DG_ERR_FORMAT && strstr(dg_last_error(), needle), "%s: %s", what,
           bad ? "accepted" : dg_last_error());
  dg_document_free(bad);
}

// Edits of a bundle's project.json (the first `from` becomes `to`), each refused with a message containing
// `needle`.
typedef struct json_edit {
  const char *from, *to, *needle;
} json_edit;
// The project.json of a bundle (malloc'd), NULL when it has none.
static char *project_json_of(const char *bundle, size_t len, size_t *json_len) {
  dg_bundle *bb = dg_bundle_open((const uint8_t *)bundle, len);
  char *json = bb ? (char *)dg_bundle_read(bb, "project.json", DG_PROJECT_MAX_ENTRY, json_len) : NULL;
  dg_bundle_free(bb);
  return json;
}
static void expect_edits_rejected(const char *bundle, size_t len, const json_edit *cases, size_t n, const char *label) {
  size_t jl = 0;
  char *json = project_json_of(bundle, len, &jl);
  dg_check(json != NULL, "%s: the bundle's project.json", label);
  for (size_t i = 0; json && i < n; i++) {
    GString *e = edited(json, jl, cases[i].from, cases[i].to);
    dg_check(e != NULL, "%s case %zu: '%s' not in the JSON", label, i, cases[i].from);
    if (!e) continue;
    size_t plen;
    char *project = rebundle(bundle, len, "project.json", e->str, e->len, &plen);
    char what[48];
    snprintf(what, sizeof what, "%s case %zu", label, i);
    expect_rejected(project, plen, cases[i].needle, what);
    free(project);
    g_string_free(e, TRUE);
  }
  free(json);
}

// Edits of a valid project's JSON that make it malformed, each with a word its message must contain:
// of a bundle's project.json, or of a version 1 file.
static const struct {
  bool bundle;
  const char *edit_from, *edit_to, *needle;
} malformed[] = {
    {true, "\"file\" : \"layout.png\"", "\"file\" : \"missing.png\"", "missing.png"},
    {true, "\"encoding\" : \"png\",\n    \"file\" : \"layout.png\"", "\"encoding\" : \"jpeg\"", "encoding"},
    {true, "\"width\" : 256", "\"width\" : 255", "layout"},
    {true, "\"file\" : \"results/0001.png\"", "\"file\" : \"layout.png\"", "results[0]"},
    {true, "\"version\" : 2", "\"version\" : 3", "newer"},
    {true, "\"steps\" : 33", "\"steps\" : 1001", "steps"},
    {true, "\"attention_guidance\" : \"none\"", "\"attention_guidance\" : \"sideways\"", "'sideways'"},
    {true, "\"attention_guidance\" : \"none\"", "\"attention_guidance\" : 2", "attention_guidance"},
    {true, "\"live\" : false", "\"live\" : \"on\"", "live"},
    {false, "\"format\" : \"dirigent-project\"", "\"format\" : \"other\"", "format"},
    {false, "\"steps\" : 33", "\"steps\" : 0", "steps"},
    {false, "\"steps\" : 33", "\"steps\" : \"33\"", "steps"},
    {false, "\"width\" : 256", "\"width\" : 255", "run-length"},
    {false, "\"seed\" : \"18446744073709551557\"", "\"seed\" : \"-1\"", "seed"},
    {false, "\"current_result\" : 0", "\"current_result\" : 2", "current_result"},
    {false, "\"encoding\" : \"rle8-base64\"", "\"encoding\" : \"png\"", "encoding"},
    {false, "\"encoding\" : \"rle8-base64\"", "\"encoding\" : \"gif\"", "encoding"},
    {false, "\"version\" : 1", "\"version\" : 3", "newer"},
    {false, "\"model\" : \"world-aldm\"", "\"model\" : 5", "model"},
};

// Each edit for a bundle (or for a version 1 file) applied to the JSON `text` (put into `bundle` as its
// project.json for a bundle) is rejected with a message naming the problem.
static void expect_cases_rejected(bool for_bundle, const char *text, size_t len, const char *bundle,
                                  size_t bundle_len) {
  for (size_t i = 0; text && i < G_N_ELEMENTS(malformed); i++) {
    if (malformed[i].bundle != for_bundle) continue;
    GString *s = edited(text, len, malformed[i].edit_from, malformed[i].edit_to);
    dg_check(s != NULL, "case %zu: '%s' not in the JSON", i, malformed[i].edit_from);
    if (!s) continue;
    size_t plen = s->len;
    char *project = for_bundle ? rebundle(bundle, bundle_len, "project.json", s->str, s->len, &plen) : s->str;
    char what[32];
    snprintf(what, sizeof what, "case %zu", i);
    expect_rejected(project, plen, malformed[i].needle, what);
    if (for_bundle) free(project);
    g_string_free(s, TRUE);
  }
}

static void test_bundle(const char *dir) {
  char *path = g_build_filename(dir, "scene.dirigent", NULL);
  dg_document *d = sample();
  dg_status st = dg_project_save(d, path);
  dg_check(st == DG_OK, "save: %s", dg_last_error());
  dg_document *e = dg_project_load(path, &st);
  dg_check(e && equal_docs(d, e), "round trip: %s", e ? "differs" : dg_last_error());
  dg_check(e && !dg_document_can_undo(e), "an opened document starts with an empty history");
  dg_document_set_live(d, true); // live mode is saved
  dg_check(dg_project_save(d, path) == DG_OK, "save live: %s", dg_last_error());
  dg_document *l = dg_project_load(path, &st);
  dg_check(l && dg_document_live(l) && equal_docs(d, l), "live mode round trip: %s", l ? "differs" : dg_last_error());
  dg_document_free(l);
  dg_document_set_live(d, false);
  dg_check(dg_project_save(d, path) == DG_OK, "save again: %s", dg_last_error()); // the bundle the rest reads
  // Saving what was opened gives the same bytes.
  size_t la = 0, lb = 0;
  char *ta = dg_project_serialize(d, &la), *tb = e ? dg_project_serialize(e, &lb) : NULL;
  dg_check(tb && la == lb && !memcmp(ta, tb, la), "re-serialisation is byte-identical");
  // The layout is stored compactly (a PNG), not as 32768 raw bytes.
  dg_check(la < 40000, "file is %zu bytes", la);
  // The marks and their attention guidance are saved (an old project, test_old_format, opens with none).
  char *marked = g_build_filename(dir, "marked.dirigent", NULL);
  dg_document_set_text(d, DG_FIELD_MARKS, "red:car, car#2", false);
  dg_document_set_text(d, DG_FIELD_ATTN_GUIDANCE, "divide-bind", false);
  dg_check(dg_project_save(d, marked) == DG_OK, "save with marks: %s", dg_last_error());
  dg_document *m = dg_project_load(marked, &st);
  unlink(marked);
  g_free(marked);
  dg_check(m && !strcmp(dg_document_marks(m), "red:car, car#2") && equal_docs(d, m), "marks round trip: %s",
           m ? dg_document_marks(m) : dg_last_error());
  dg_check(m && !strcmp(dg_document_attn_guidance(m), "divide-bind"), "attention guidance round trip: %s",
           m ? dg_document_attn_guidance(m) : dg_last_error());
  dg_document_free(m);
  // A result keeps the marks and guidance it was made with (for its export); older results have none.
  dg_document *c = dg_document_copy(d);
  dg_result res = {.width = 2, .height = 1, .steps = 3, .guidance = 5, .rgba = calloc(8, 1), .prompt = strdup("p"),
                   .negative = strdup(""), .model = strdup("m"), .marks = strdup("red:car"),
                   .attn_guidance = strdup("attend-excite")};
  dg_document_add_result(c, &res);
  size_t cl = 0;
  char *ct = dg_project_serialize(c, &cl);
  m = ct ? dg_project_parse(ct, cl, &st) : NULL;
  const dg_result *mr = m ? dg_document_result(m, 2) : NULL, *old = m ? dg_document_result(m, 0) : NULL;
  dg_check(mr && mr->marks && !strcmp(mr->marks, "red:car") && mr->attn_guidance &&
               !strcmp(mr->attn_guidance, "attend-excite") && !old->marks && !old->attn_guidance,
           "a result's marks and guidance round trip: %s", m ? "differ" : dg_last_error());
  dg_document_free(m);
  dg_document_free(c);
  free(ct);
  dg_document_undo(d);
  dg_check(!strcmp(dg_document_attn_guidance(d), "none"), "setting the attention guidance is one undo step");
  dg_document_undo(d);
  dg_check(!*dg_document_marks(d), "setting the marks is one undo step");

  // What the bundle holds: the mimetype first, the document JSON with the version 1 keys, the layout
  // and each result as PNG files.
  dg_bundle *b = dg_bundle_open((const uint8_t *)ta, la);
  dg_check(b && dg_bundle_count(b) == 5 && !strcmp(dg_bundle_name(b, 0), "mimetype") &&
               dg_bundle_has(b, "project.json") && dg_bundle_has(b, "layout.png") &&
               dg_bundle_has(b, "results/0001.png") && dg_bundle_has(b, "results/0002.png"),
           "bundle entries");
  size_t jl = 0, pl = 0;
  char *json = b ? (char *)dg_bundle_read(b, "project.json", DG_PROJECT_MAX_ENTRY, &jl) : NULL;
  uint8_t *png = b ? dg_bundle_read(b, "layout.png", DG_PROJECT_MAX_ENTRY, &pl) : NULL;
  dg_check(json && strstr(json, "\"format\" : \"dirigent-project\"") && strstr(json, "\"version\" : 2") &&
               strstr(json, "\"file\" : \"layout.png\"") && strstr(json, "\"file\" : \"results/0002.png\"") &&
               strstr(json, "\"seed\" : \"18446744073709551557\"") && strstr(json, "\"current_result\" : 0"),
           "project.json keys:\n%s", json ? json : "(none)");
  dg_check(png && pl > 8 && !memcmp(png, "\x89PNG", 4), "layout.png is a PNG");
  free(png);
  dg_bundle_free(b);

  // Malformed bundles: each is rejected with a message naming the problem.
  expect_cases_rejected(true, json, jl, ta, la);
  size_t n;
  char *bad = rebundle(ta, la, "project.json", NULL, 0, &n);
  expect_rejected(bad, n, "project.json", "a bundle without project.json");
  free(bad);
  bad = rebundle(ta, la, "layout.png", "not a png", 9, &n);
  expect_rejected(bad, n, "layout", "a layout.png that is no PNG");
  free(bad);
  expect_rejected(ta, la / 2, "truncated", "a truncated bundle");
  char *flipped = g_memdup2(ta, la);
  const char *key = memmem(ta, la, "current_result", 14); // inside project.json, stored as it is
  if (key) flipped[key - ta] ^= 0x20;                     // the entry's CRC-32 no longer matches
  expect_rejected(flipped, la, "CRC", "a flipped byte");
  g_free(flipped);
  free(json);

  // A failed save leaves the old bundle untouched and no temporary file behind, wherever it fails.
  size_t before_len = 0;
  char *before = read_all(path, &before_len);
  dg_document_set_text(e, DG_FIELD_PROMPT, "changed", false);
  size_t le = 0;
  free(dg_project_serialize(e, &le));
  long fail_at[] = {0, 100, (long)le / 2, (long)le - 1};
  for (size_t i = 0; i < sizeof fail_at / sizeof fail_at[0]; i++) {
    dg_project_inject_write_failure(fail_at[i]);
    st = dg_project_save(e, path);
    dg_check(st == DG_ERR_IO, "injected failure after %ld bytes not reported", fail_at[i]);
    size_t after_len = 0;
    char *after = read_all(path, &after_len);
    dg_check(after && after_len == before_len && !memcmp(before, after, before_len),
             "old bundle damaged by a save failing after %ld bytes", fail_at[i]);
    g_free(after);
    dg_check(files_in(dir) == 1, "%d files in the directory after a failed save", files_in(dir));
  }
  dg_document *still = dg_project_load(path, &st);
  dg_check(still && equal_docs(d, still), "the old bundle still opens as it was");
  dg_document_free(still);
  dg_check(dg_project_save(d, "/nonexistent-dir/x.dirigent") == DG_ERR_IO, "save into a missing directory");

  free(ta), free(tb);
  g_free(before);
  unlink(path);
  g_free(path);
  dg_document_free(d);
  dg_document_free(e);
}

// A project from before bundles: one JSON file (committed, written by the version 1 writer).
static void test_old_format(const char *dir) {
  dg_status st;
  dg_document *old = dg_project_load(OLD_PROJECT, &st), *d = sample();
  dg_check(old && equal_docs(d, old), "old single-file project opens exactly: %s", old ? "differs" : dg_last_error());
  dg_check(old && !dg_document_can_undo(old), "  ... with an empty history");
  dg_check(old && !dg_document_live(old), "  ... live mode off (a project without \"live\")");
  dg_check(old && dg_document_control_scale(old) == 1 && dg_document_result(old, 0)->control_scale == 1,
           "  ... the layout strength and its results' 1, as trained (a project without \"control_scale\")");
  // Saving it again writes a bundle that opens the same.
  char *path = g_build_filename(dir, "converted.dirigent", NULL);
  dg_check(old && dg_project_save(old, path) == DG_OK, "save the old project as a bundle: %s", dg_last_error());
  size_t len = 0;
  char *bytes = read_all(path, &len);
  dg_check(bytes && dg_bundle_sniff(bytes, len), "  ... a bundle");
  dg_document *again = dg_project_load(path, &st);
  dg_check(again && equal_docs(d, again), "  ... that opens the same");
  dg_document_free(again);
  g_free(bytes);
  unlink(path);
  g_free(path);

  // Malformed version 1 files: each is rejected with a message naming the problem.
  char *text = read_all(OLD_PROJECT, &len);
  expect_cases_rejected(false, text, len, NULL, 0);
  g_free(text);
  dg_document_free(old);
  dg_document_free(d);

  const char *garbage[] = {"",          "{", "null", "[1,2]", "{\"format\": \"dirigent-project\"}", "\x89PNG\r\n\x1a\n",
                           "PK\x03\x04"};
  for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
    dg_document *bad = dg_project_parse(garbage[i], strlen(garbage[i]), &st);
    dg_check(!bad && *dg_last_error(), "garbage %zu accepted", i);
  }
  char *bad_path = g_build_filename(dir, "broken.dirigent", NULL);
  g_file_set_contents(bad_path, "{\"format\": 3}", -1, NULL);
  dg_check(!dg_project_load(bad_path, &st) && strstr(dg_last_error(), "broken.dirigent"), "message names the file: %s",
           dg_last_error());
  unlink(bad_path);
  g_free(bad_path);
}

// The layout strength: saved with the results' own and read back; a project without it (an older file) opens at
// 1, the ControlNet as trained, and so does a result without it; a value out of range is refused, naming the
// file and the value, and nothing is opened.
static void test_control_scale(const char *dir) {
  dg_document *d = sample();
  dg_check_status(dg_document_set_control_scale(d, 2.25), "layout strength 2.25");
  dg_result res = {.width = 2, .height = 1, .steps = 3, .guidance = 5, .control_scale = 0.75, .rgba = calloc(8, 1),
                   .prompt = strdup("p"), .negative = strdup(""), .model = strdup("m")};
  dg_document_add_result(d, &res);
  char *path = g_build_filename(dir, "strength.dirigent", NULL);
  dg_check_status(dg_project_save(d, path), "save");
  dg_status st;
  dg_document *e = dg_project_load(path, &st);
  dg_check(e && equal_docs(d, e) && dg_document_control_scale(e) == 2.25 &&
               dg_document_result(e, 2)->control_scale == 0.75 && dg_document_result(e, 0)->control_scale == 1,
           "round trip: %s", e ? "2.25, its results 1 and 0.75" : dg_last_error());
  dg_document_free(e);
  size_t len = 0, jl = 0;
  char *bundle = read_all(path, &len), *json = bundle ? project_json_of(bundle, len, &jl) : NULL;
  dg_check(json && strstr(json, "\"control_scale\" : 2.25") && strstr(json, "\"control_scale\" : 0.75"),
           "project.json holds the document's and the result's:\n%s", json ? json : "(none)");

  // Older projects have no "control_scale": the document, and a result, open at 1.
  GString *older = json ? edited(json, jl, "\"control_scale\" : 2.25", "\"old_control_scale\" : 2.25") : NULL;
  GString *oldest = older ? edited(older->str, older->len, "\"control_scale\" : 0.75", "\"old_scale\" : 0.75") : NULL;
  size_t pl = 0;
  char *project = oldest ? rebundle(bundle, len, "project.json", oldest->str, oldest->len, &pl) : NULL;
  dg_document *o = project ? dg_project_parse(project, pl, &st) : NULL;
  dg_check(o && dg_document_control_scale(o) == 1 && dg_document_result(o, 2)->control_scale == 1 &&
               dg_document_guidance(o) == dg_document_guidance(d),
           "a project without \"control_scale\" opens at 1: %s", o ? "differs" : dg_last_error());
  dg_document_free(o);
  free(project);
  if (older) g_string_free(older, TRUE);
  if (oldest) g_string_free(oldest, TRUE);

  // Out of range or not a number: refused, the message naming the file and the value.
  GString *bad = json ? edited(json, jl, "\"control_scale\" : 2.25", "\"control_scale\" : 9") : NULL;
  project = bad ? rebundle(bundle, len, "project.json", bad->str, bad->len, &pl) : NULL;
  char *bad_path = g_build_filename(dir, "too-strong.dirigent", NULL);
  dg_check(project && g_file_set_contents(bad_path, project, (gssize)pl, NULL), "write too-strong.dirigent");
  dg_document *refused = dg_project_load(bad_path, &st);
  dg_check(!refused && st == DG_ERR_FORMAT && strstr(dg_last_error(), "too-strong.dirigent") &&
               strstr(dg_last_error(), "\"control_scale\" 9 outside"),
           "an out-of-range layout strength names the file and the value: %s",
           refused ? "accepted" : dg_last_error());
  dg_document_free(refused);
  unlink(bad_path);
  g_free(bad_path);
  free(project);
  if (bad) g_string_free(bad, TRUE);
  const json_edit cases[] = {
      {"\"control_scale\" : 2.25", "\"control_scale\" : 0", "\"control_scale\" 0 outside"},
      {"\"control_scale\" : 2.25", "\"control_scale\" : -1.5", "\"control_scale\" -1.5 outside"},
      {"\"control_scale\" : 2.25", "\"control_scale\" : 4.5", "\"control_scale\" 4.5 outside"},
      {"\"control_scale\" : 2.25", "\"control_scale\" : \"strong\"", "\"control_scale\" is not a number"},
      {"\"control_scale\" : 2.25", "\"control_scale\" : 1e999", "\"control_scale\" is not a finite number"},
      {"\"control_scale\" : 0.75", "\"control_scale\" : 5", "results[2]: \"control_scale\" 5 outside"},
      {"\"control_scale\" : 0.75", "\"control_scale\" : null", "results[2]: \"control_scale\" is not a number"},
  };
  if (bundle) expect_edits_rejected(bundle, len, cases, G_N_ELEMENTS(cases), "control_scale");
  free(json);
  g_free(bundle);
  unlink(path);
  g_free(path);
  dg_document_free(d);
}

// ---- hostile inputs --------------------------------------------------------------------------------

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "test_project: FAIL: blocked for 30 s (a FIFO or device read as a project?)\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(1);
}

// The project JSON `text` with its results replaced by 40 results claiming 4096x4096 pixels (2.5 GiB of
// RGBA8), each with `data` as its encoding's fields; NULL when the JSON has no results array.
static GString *bomb(const char *text, size_t len, const char *data) {
  const char *at = g_strstr_len(text, (gssize)len, "\"results\" : [");
  const char *close = at ? strchr(at, ']') : NULL;
  if (!close) return NULL;
  GString *s = g_string_new_len(text, at - text);
  g_string_append(s, "\"results\" : [");
  for (int i = 0; i < 40; i++)
    g_string_append_printf(s,
                           "%s{\"width\": 4096, \"height\": 4096, \"seed\": \"1\", \"steps\": 1, \"guidance\": 1, "
                           "\"prompt\": \"\", \"negative_prompt\": \"\", \"model\": \"\", %s}",
                           i ? ", " : "", data);
  g_string_append_len(s, close, (gssize)(len - (size_t)(close - text)));
  return s;
}

// Hostile inputs (issue "hostile and careless inputs", items 1, 6 and 8): each is refused with a message
// naming the problem, at once, and the file is left as it was.
static void test_hostile(const char *dir) {
  dg_status st;
  // 1. {"x": and 200000 '[': json-glib recursed once per level and overflowed the stack. As a version 1
  // file, and as a bundle's project.json.
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
  dg_document *d = sample();
  size_t len, blen;
  char *bundle = dg_project_serialize(d, &len);
  dg_document_free(d);
  char *deep_bundle = rebundle(bundle, len, "project.json", deep, n, &blen);
  expect_rejected(deep_bundle, blen, "JSON nested deeper than the limit of 64 levels", "a deeply nested project.json");
  free(deep_bundle);
  free(deep);

  // 8. A decompression bomb: 40 results claiming 4096x4096 (2.5 GiB of RGBA8) in a small file. Refused
  // from the sizes, before any image is decoded: the data of results[0] is not even valid (a version 1
  // file) or its file is missing (a bundle).
  size_t jl = 0, vl = 0;
  dg_bundle *b = dg_bundle_open((const uint8_t *)bundle, len);
  char *json = b ? (char *)dg_bundle_read(b, "project.json", DG_PROJECT_MAX_ENTRY, &jl) : NULL;
  dg_bundle_free(b);
  char *v1 = read_all(OLD_PROJECT, &vl);
  GString *bombs[2] = {json ? bomb(json, jl, "\"encoding\": \"png\", \"file\": \"results/9999.png\"") : NULL,
                       v1 ? bomb(v1, vl, "\"encoding\": \"rgba8-zlib-base64\", \"data\": \"AAAA\"") : NULL};
  for (int i = 0; i < 2; i++) {
    dg_check(bombs[i] != NULL, "results array in the %s", i ? "version 1 file" : "bundle's project.json");
    if (!bombs[i]) continue;
    char *text = i ? bombs[i]->str : rebundle(bundle, len, "project.json", bombs[i]->str, bombs[i]->len, &blen);
    bad = dg_project_parse(text, i ? bombs[i]->len : blen, &st);
    dg_check(!bad && st == DG_ERR_FORMAT && strstr(dg_last_error(), "results[7]: its 4096x4096 (WxH) pixels") &&
                 strstr(dg_last_error(), "limit of 512 MiB"),
             "decompression bomb (%s): %s", i ? "version 1" : "bundle", bad ? "accepted" : dg_last_error());
    if (!i) free(text);
    g_string_free(bombs[i], TRUE);
  }
  // A bundle's result PNG larger than its project.json says is refused from the PNG's header.
  GString *big = json ? edited(json, jl, "\"width\" : 64", "\"width\" : 32") : NULL;
  dg_check(big != NULL, "a result's width in project.json");
  if (big) {
    char *text = rebundle(bundle, len, "project.json", big->str, big->len, &blen);
    expect_rejected(text, blen, "results/0001.png is 64x32 pixels, not 32x32", "a result PNG of another size");
    free(text);
    g_string_free(big, TRUE);
  }
  free(json);
  g_free(v1);
  free(bundle);

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

// ---- saving off the calling thread -----------------------------------------------------------------

typedef struct async_state {
  GThread *main_thread, *writer, *callback;
  int done, ok;
  char *message;
} async_state;

static void observe_write(const char *path, void *user) {
  (void)path;
  async_state *s = user;
  s->writer = g_thread_self();
  g_usleep(50000); // the caller goes on meanwhile
}

static void saved(GObject *source, GAsyncResult *result, gpointer user) {
  (void)source;
  async_state *s = user;
  GError *err = NULL;
  s->callback = g_thread_self();
  if (dg_project_save_finish(result, &err))
    s->ok++;
  else
    s->message = g_strdup(err->message);
  g_clear_error(&err);
  s->done++;
}

static void test_async(const char *dir) {
  async_state s = {.main_thread = g_thread_self()};
  dg_project_set_write_observer(observe_write, &s);
  char *path = g_build_filename(dir, "async.dirigent", NULL);
  dg_document *d = sample();
  dg_project_save_async(d, path, NULL, saved, &s);
  // The save works on a snapshot: edits after asking do not reach this file, and the caller is not
  // held up by the write (the observer sleeps on the writing thread).
  dg_document_set_text(d, DG_FIELD_PROMPT, "edited after saving", false);
  dg_check(s.done == 0 && !g_file_test(path, G_FILE_TEST_EXISTS), "save_async returned before writing");
  // A second save to a missing directory, queued behind the first, fails with a message naming it.
  dg_project_save_async(d, "/nonexistent-dir/y.dirigent", NULL, saved, &s);
  while (s.done < 2)
    g_main_context_iteration(NULL, TRUE);
  dg_check(s.writer && s.writer != s.main_thread, "the project was written on another thread");
  dg_check(s.callback == s.main_thread, "the callback ran in the caller's main context");
  dg_check(s.ok == 1 && s.message && strstr(s.message, "/nonexistent-dir/y.dirigent"),
           "first save succeeded, second failed naming its path: %s", s.message ? s.message : "(no error)");
  dg_status st;
  dg_document *e = dg_project_load(path, &st), *orig = sample();
  dg_check(e && equal_docs(orig, e), "the file holds the document as it was when the save was asked for");
  dg_project_wait_saves();
  dg_project_set_write_observer(NULL, NULL);
  dg_document_free(e);
  dg_document_free(orig);
  dg_document_free(d);
  unlink(path);
  g_free(path);
  g_free(s.message);
}

// The project.json of `bundle` as it was before "videos": its first video as the one "video" object.
static char *as_single_video(const char *bundle, size_t len, size_t *out_len) {
  dg_bundle *bb = dg_bundle_open((const uint8_t *)bundle, len);
  size_t jl = 0;
  char *json = bb ? (char *)dg_bundle_read(bb, "project.json", DG_PROJECT_MAX_ENTRY, &jl) : NULL;
  dg_bundle_free(bb);
  JsonParser *p = json_parser_new();
  char *out = NULL;
  if (json && json_parser_load_from_data(p, json, (gssize)jl, NULL)) {
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    JsonNode *first = json_array_dup_element(json_object_get_array_member(o, "videos"), 0);
    json_object_remove_member(o, "videos");
    json_object_remove_member(o, "current_video");
    json_object_set_member(o, "video", first);
    gsize n;
    char *text = json_to_string(json_parser_get_root(p), TRUE);
    n = strlen(text);
    out = rebundle(bundle, len, "project.json", text, n, out_len);
    g_free(text);
  }
  g_object_unref(p);
  free(json);
  return out;
}

// The timeline and the generated videos: a round trip (stages, settings, frames, attention, which video is
// current), a project of before with its one "video" read, and broken timelines and videos refused naming the
// member, nothing half-read.
static void test_video(void) {
  dg_document *d = sample();
  dg_timeline t;
  dg_timeline_init(&t);
  t.frames = 3, t.fps = 12, t.vsp = DG_VSP_SAME, t.sigma_next = 8, t.until = 5, t.keep_layout = false;
  t.attention_layer = 2, t.attention_step = 1;
  dg_timeline_add_stage(&t, 0, "a street at day \"q\" \xc3\xa9");
  dg_timeline_add_stage(&t, 2, "a street at night");
  dg_check_status(dg_document_set_timeline(d, &t, false), "set the timeline");
  dg_video_result v;
  dg_video_result_init(&v);
  dg_timeline_copy(&v.timeline, &t);
  dg_media_alloc(&v.frames, 3, 8, 4, 4);
  for (size_t i = 0; i < dg_media_frame_bytes(&v.frames) * 3; i++)
    v.frames.data[i] = (uint8_t)(i * 7 + 3);
  v.seed = 77, v.steps = 4, v.guidance = 6.5, v.control_scale = 1.5;
  v.negative = strdup("blurry"), v.model = strdup("/m");
  v.attention = malloc(9 * sizeof(float)), v.attention_frames = 3;
  for (int i = 0; i < 9; i++)
    v.attention[i] = (float)(i % 3 == i / 3 ? 0.5 : 0.25);
  dg_video_result second;
  dg_video_result_init(&second);
  dg_video_result_copy(&second, &v);
  second.frames.data[0] ^= 0xff, second.seed = 78;
  dg_document_add_video(d, &v);
  dg_document_add_video(d, &second);
  dg_document_set_current_video(d, 0);
  size_t len;
  char *bundle = dg_project_serialize(d, &len);
  dg_status st;
  dg_document *back = bundle ? dg_project_parse(bundle, len, &st) : NULL;
  dg_check(back != NULL, "a project with a timeline and a video reads back (%s)", back ? "" : dg_last_error());
  const dg_video_result *a = dg_document_video(d), *b = back ? dg_document_video(back) : NULL;
  if (back) {
    dg_check(dg_timeline_equal(dg_document_timeline(d), dg_document_timeline(back)), "the timeline round-trips");
    dg_check(b && b->frames.frames == 3 && b->frames.width == 8 && b->frames.height == 4 &&
                 !memcmp(a->frames.data, b->frames.data, dg_media_frame_bytes(&a->frames) * 3),
             "the video's frames round-trip");
    dg_check(b && dg_timeline_equal(&a->timeline, &b->timeline) && b->seed == 77 && b->steps == 4 &&
                 b->guidance == 6.5 && b->control_scale == 1.5 && !strcmp(b->negative, "blurry") &&
                 !strcmp(b->model, "/m"),
             "the video's settings round-trip");
    dg_check(b && b->attention_frames == 3 && !memcmp(a->attention, b->attention, 9 * sizeof(float)),
             "the attention matrix round-trips");
    const dg_video_result *a2 = dg_document_video_at(d, 1), *b2 = dg_document_video_at(back, 1);
    dg_check(dg_document_video_count(back) == 2 && dg_document_current_video(back) == 0 && b2 && b2->seed == 78 &&
                 !memcmp(a2->frames.data, b2->frames.data, dg_media_frame_bytes(&a2->frames) * 3),
             "both videos round-trip, the first current (%d videos, current %d)", dg_document_video_count(back),
             dg_document_current_video(back));
    size_t len2;
    char *again = dg_project_serialize(back, &len2);
    dg_check(again && len2 == len && !memcmp(again, bundle, len), "the same document gives the same bytes");
    free(again);
  }
  dg_document_free(back);
  // A project of before: its one "video" (with files video/NNNN/...: any names of the bundle) is read as one.
  size_t old_len = 0;
  char *old = bundle ? as_single_video(bundle, len, &old_len) : NULL;
  dg_document *one = old ? dg_project_parse(old, old_len, &st) : NULL;
  dg_check(one && dg_document_video_count(one) == 1 && dg_document_current_video(one) == 0 &&
               dg_document_video(one)->seed == 77,
           "a project with the one \"video\" of before reads as one video (%s)", one ? "" : dg_last_error());
  dg_document_free(one);
  free(old);
  // Broken timelines and videos: each edit of project.json refused, naming what is wrong.
  const json_edit cases[] = {
      {"\"frame\" : 2,", "\"frame\" : 40,", "timeline: stage 2 at frame 40"},
      {"\"vsp\" : \"same\"", "\"vsp\" : \"sideways\"", "sideways"},
      {"\"fps\" : 12", "\"fps\" : \"fast\", \"z\" : 12", "\"fps\" is not a number"},
      {"\"stages\" : [", "\"stages\" : 3, \"x\": [", "\"stages\" is not an array"},
      {"\"keep_layout\" : false", "\"keep_layout\" : 0", "keep_layout"},
      {"\"attention_layer\" : 2", "\"attention_layer\" : 99", "attention picture of layer 99 at step 1"},
      {"\"attention_step\" : 1", "\"attention_step\" : \"one\"", "\"attention_step\" is not an integer"},
      {"\"video/0001/0002.png\"", "\"results/0001.png\"", "videos[0] frame 2"},
      {"\"video/0002/0003.png\"", "\"video/0002/0009.png\"", "video/0002/0009.png"},
      {"\"current_video\" : 0", "\"current_video\" : 2", "\"current_video\""},
      {"\"videos\" : [", "\"video\" : {}, \"videos\" : [", "both \"video\" and \"videos\""},
      {"\"videos\" : [", "\"videos\" : 5, \"x\" : [", "\"videos\" is not an array"},
      {"\"frames\" : 3,\n      \"seed\"", "\"frames\" : 4,\n      \"seed\"", "videos[0]"},
      {"\"attention\" : [\n        0.5", "\"attention\" : [\n        1.5", "videos[0]: \"attention\"[0]"},
      {"\"control_scale\" : 1.5", "\"control_scale\" : 0", "videos[0]: \"control_scale\" 0 outside"},
  };
  expect_edits_rejected(bundle, len, cases, G_N_ELEMENTS(cases), "video");
  free(bundle);
  dg_timeline_clear(&t);
  dg_document_free(d);
}

// The style panel: both slots, method, strength and a stylized result round-trip; broken style members and a
// slot image of another size than its JSON says are refused, naming them; a project without "style" opens
// with the empty panel.
static void test_style(void) {
  dg_document *d = sample();
  uint8_t px[6 * 4 * 4];
  for (size_t i = 0; i < sizeof px; i++)
    px[i] = (uint8_t)(i * 13 + 1);
  dg_style_image *content = dg_style_image_new(6, 4, px, "result 1"), *ex = dg_style_image_new(4, 6, px, "file /x.png");
  dg_check_status(dg_style_edit_set_slot(d, DG_STYLE_CONTENT, content), "fill the content slot");
  dg_check_status(dg_style_edit_set_slot(d, DG_STYLE_EXEMPLAR, ex), "fill the exemplar slot");
  dg_check_status(dg_style_edit_set_method(d, DG_STYLIZE_MNE), "set the method");
  dg_check_status(dg_style_edit_set_strength(d, 0.375, false), "set the strength");
  dg_media rgb = {.frames = 1, .width = 6, .height = 4, .channels = 3, .data = px};
  dg_result styled;
  dg_check_status(dg_style_result(dg_document_result(d, 0), &rgb, dg_document_style(d), &styled), "a styled result");
  dg_check_status(dg_style_edit_add_result(d, &styled), "add it");
  size_t len;
  char *bundle = dg_project_serialize(d, &len);
  dg_status st;
  dg_document *back = bundle ? dg_project_parse(bundle, len, &st) : NULL;
  dg_check(back != NULL, "a project with a style reads back (%s)", back ? "" : dg_last_error());
  if (back) {
    const dg_style *a = dg_document_style(back);
    dg_check(a->method == DG_STYLIZE_MNE && a->strength == 0.375, "method and strength round-trip");
    dg_check(a->slot[0] && dg_style_image_width(a->slot[0]) == 6 &&
                 !strcmp(dg_style_image_source(a->slot[0]), "result 1") &&
                 !memcmp(dg_style_image_rgba(a->slot[0]), px, sizeof px),
             "the content slot round-trips");
    dg_check(a->slot[1] && dg_style_image_height(a->slot[1]) == 6 &&
                 !strcmp(dg_style_image_source(a->slot[1]), "file /x.png"),
             "the exemplar slot round-trips");
    const dg_result *r = dg_document_result(back, 2);
    dg_check(dg_document_result_count(back) == 3 && r && r->style && !strcmp(r->style, "mne 0.38 of file /x.png") &&
                 r->seed == 42 && r->width == 6,
             "the stylized result keeps its description and its source's settings (%s)",
             r && r->style ? r->style : "none");
    size_t len2;
    char *again = dg_project_serialize(back, &len2);
    dg_check(again && len2 == len && !memcmp(again, bundle, len), "the same style gives the same bytes");
    free(again);
  }
  dg_document_free(back);
  const json_edit cases[] = {
      {"\"method\" : \"mne\"", "\"method\" : \"cubist\"", "style: method \"cubist\""},
      {"\"strength\" : 0.375", "\"strength\" : 1.5", "style: strength 1.5"},
      {"\"file\" : \"style/exemplar.png\"", "\"file\" : \"style/missing.png\"", "style/missing.png"},
      {"\"width\" : 6,\n      \"height\" : 4,\n      \"source\"",
       "\"width\" : 7,\n      \"height\" : 4,\n      \"source\"",
       "style.content: style/content.png is 6x4 pixels, not 7x4"},
      {"\"exemplar\" : {", "\"exemplar\" : 3, \"x\" : {", "style.exemplar is neither null nor an object"},
      {"\"style\" : \"mne 0.38", "\"style\" : 7, \"y\" : \"", "\"style\" is not a string"},
  };
  expect_edits_rejected(bundle, len, cases, G_N_ELEMENTS(cases), "style");
  // A project from before the style panel: no "style" member, the empty panel.
  size_t jl = 0;
  char *json = project_json_of(bundle, len, &jl);
  GString *old = json ? edited(json, jl, "\"style\" : {", "\"old_style\" : {") : NULL;
  if (old) {
    size_t plen;
    char *project = rebundle(bundle, len, "project.json", old->str, old->len, &plen);
    dg_document *o = dg_project_parse(project, plen, &st);
    dg_check(o && !dg_document_style(o)->slot[0] && !dg_document_style(o)->slot[1] &&
                 dg_document_style(o)->method == DG_STYLIZE_FDA,
             "a project without \"style\" opens with the empty panel (%s)", o ? "" : dg_last_error());
    dg_document_free(o);
    free(project);
    g_string_free(old, TRUE);
  }
  free(json);
  free(bundle);
  dg_style_image_unref(content), dg_style_image_unref(ex);
  dg_document_free(d);
}

int main(void) {
  char *dir = g_dir_make_tmp("dg-project-XXXXXX", NULL);
  test_style();
  test_video();
  test_hostile(dir);
  test_bundle(dir);
  test_old_format(dir);
  test_control_scale(dir);
  test_async(dir);
  rmdir(dir);
  g_free(dir);
  return dg_check_finish("test_project");
}
