// Settings restored from a generated PNG (app/dg_generation_png): text chunks by their type, so a
// Latin-1 `parameters` tEXt chunk (A1111 writes one whenever the prompt fits Latin-1) comes back as
// UTF-8, and the project saved after restoring it reopens; an iTXt chunk that is not UTF-8 and a
// `dirigent` JSON chunk nested past the limit are clear errors; the document never takes invalid UTF-8. The
// layout ControlNet's scale round-trips through both chunks, reads as 1 from files without it, and a value out of
// range is an error naming the file and the value.
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dg_check.h"
#include "dg_generation_png.h"
#include "dg_png.h"
#include "dg_project.h"
#include "dg_test_png.h"

static char *dir;

static char *path_in(const char *name) { return g_build_filename(dir, name, NULL); }

// A 4x2 PNG with one text chunk.
static char *png_with(const char *name, const char *type, const void *data, size_t len) {
  char *path = path_in(name);
  dg_test_png p;
  dg_test_png_begin(&p, 4, 2);
  dg_test_png_chunk(&p, type, data, len);
  dg_check(dg_test_png_finish(&p, 4, 2, path), "write %s", path);
  return path;
}

// What the editor does on opening a PNG (ui/dg_files.c restore_settings), then save and reopen.
static void restore_save_reopen(const char *png, const char *want_prompt, const char *want_negative) {
  dg_generation_info g;
  if (!dg_check_status(dg_generation_png_read(png, &g), "read the settings")) return;
  dg_check(!strcmp(g.prompt, want_prompt) && !strcmp(g.negative, want_negative), "prompt '%s', negative '%s'",
           g.prompt, g.negative);
  dg_document *doc = dg_document_new(32, 64);
  dg_check_status(dg_document_set_text(doc, DG_FIELD_PROMPT, g.prompt, false), "the document takes the prompt");
  dg_check_status(dg_document_set_text(doc, DG_FIELD_NEGATIVE, g.negative, false), "and the negative prompt");
  char *project = path_in("restored.dirigent");
  dg_check_status(dg_project_save(doc, project), "save");
  dg_status st;
  dg_document *again = dg_project_load(project, &st);
  dg_check(again && !strcmp(dg_document_prompt(again), want_prompt) &&
               !strcmp(dg_document_negative(again), want_negative),
           "the saved project reopens with the same prompts: %s", again ? "differs" : dg_last_error());
  dg_document_free(again);
  dg_document_free(doc);
  unlink(project);
  g_free(project);
  dg_generation_info_clear(&g);
}

int main(void) {
  dir = g_dir_make_tmp("dg-genpng-XXXXXX", NULL);

  // Defect 3 of the issue: Latin-1 bytes were copied raw into the prompt; the project saved afterwards
  // could not be reopened ("not UTF-8 text").
  const char a1111[] = "parameters\0caf\xe9 au lait, 5 \xb5m\nNegative prompt: na\xefve\n"
                       "Steps: 7, Sampler: DDIM, CFG scale: 5, Seed: 9, Size: 4x2";
  char *latin1 = png_with("latin1.png", "tEXt", a1111, sizeof a1111 - 1);
  restore_save_reopen(latin1, "caf\xc3\xa9 au lait, 5 \xc2\xb5m", "na\xc3\xafve");
  // zTXt holds Latin-1 as well.
  uint8_t z[512] = "parameters\0\0";
  uLongf zn = sizeof z - 12;
  compress(z + 12, &zn, (const Bytef *)a1111 + 11, sizeof a1111 - 12);
  char *ztxt = png_with("ztxt.png", "zTXt", z, 12 + zn);
  restore_save_reopen(ztxt, "caf\xc3\xa9 au lait, 5 \xc2\xb5m", "na\xc3\xafve");

  // An iTXt chunk must be UTF-8: Latin-1 bytes there are an error naming the chunk, not raw text.
  const char itxt[] = "parameters\0\0\0\0\0caf\xe9\nSteps: 7";
  char *bad_itxt = png_with("itxt.png", "iTXt", itxt, sizeof itxt - 1);
  dg_generation_info g;
  dg_check_error(dg_generation_png_read(bad_itxt, &g), DG_ERR_FORMAT, "'parameters' iTXt chunk: not valid UTF-8",
                 "iTXt that is not UTF-8");
  dg_check(strstr(dg_last_error(), "itxt.png") != NULL, "the message names the file: %s", dg_last_error());

  // Defect 1: a `dirigent` chunk of {"x": and 100000 '[' overflowed json-glib's stack.
  size_t n = 9 + 6 + 100000;
  char *deep = malloc(n);
  memcpy(deep, "dirigent\0{\"x\": ", 15);
  memset(deep + 15, '[', n - 15);
  char *deep_png = png_with("deep.png", "tEXt", deep, n);
  free(deep);
  dg_check_error(dg_generation_png_read(deep_png, &g), DG_ERR_FORMAT,
                 "the dirigent chunk: JSON nested deeper than the limit of 64 levels", "deeply nested job chunk");

  // Numbers of the wrong kind in the job chunk: a clear error (json-glib's getters logged criticals).
  static const struct {
    const char *json, *message;
  } wrong[] = {
      {"{\"prompt\": \"p\", \"steps\": [1]}", "steps nan or guidance"},
      {"{\"prompt\": \"p\", \"steps\": \"20\"}", "steps nan"},
      {"{\"prompt\": \"p\", \"cfg\": null}", "guidance nan"},
      {"{\"prompt\": \"p\", \"steps\": 2.5}", "steps 2.5"},
      {"{\"prompt\": \"p\", \"width\": {}}", "image size nan"},
      {"{\"prompt\": \"p\", \"height\": -4}", "image size 0 x -4"},
  };
  for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
    char chunk[256];
    size_t len = (size_t)snprintf(chunk, sizeof chunk, "dirigent%c%s", 0, wrong[i].json);
    char *png = png_with("wrong.png", "tEXt", chunk, len);
    dg_check_error(dg_generation_png_read(png, &g), DG_ERR_FORMAT, wrong[i].message, wrong[i].json);
    g_free(png);
  }

  // The writer's own round trip: a non-ASCII prompt goes to iTXt and comes back.
  char *ours = path_in("ours.png");
  uint8_t rgb[4 * 2 * 3] = {0};
  dg_generation_info w = {.prompt = "\xc3\xa9t\xc3\xa9 \xe2\x82\xac", .negative = "", .sampler = "DDIM", .model = "m",
                          .layout = "", .steps = 3, .width = 4, .height = 2, .cfg = 2.5, .seed = 77};
  dg_check_status(dg_generation_png_write(ours, rgb, 3, &w), "write a generated PNG");
  restore_save_reopen(ours, w.prompt, "");

  // Marks: the job chunk and the quoted A1111 field keep them (their commas included); older files have none.
  char *marked = path_in("marked.png");
  w.marks = "red:car, blue:car#2", w.guidance = DG_GUIDANCE_DIVIDE_BIND;
  dg_check_status(dg_generation_png_write(marked, rgb, 3, &w), "write a PNG with marks");
  if (dg_check_status(dg_generation_png_read(marked, &g), "read it back")) {
    dg_check(!strcmp(g.marks, "red:car, blue:car#2"), "marks from the job chunk: '%s'", g.marks);
    dg_check(g.guidance == DG_GUIDANCE_DIVIDE_BIND, "guidance from the job chunk: %d", (int)g.guidance);
    dg_generation_info_clear(&g);
  }
  // The parameters chunk names the guidance too (another tool keeps only that one).
  dg_png_text_list texts;
  if (dg_check_status(dg_png_read_texts(marked, &texts), "read the chunks")) {
    const char *params = dg_png_text_find(&texts, "parameters"), *job = dg_png_text_find(&texts, "dirigent");
    dg_check(params && strstr(params, ", Guidance: divide-bind"), "parameters name the guidance: %s", params);
    dg_check(job && strstr(job, "\"guidance\":\"divide-bind\""), "the job names the guidance: %s", job);
    dg_png_text_list_free(&texts);
  }
  w.guidance = DG_GUIDANCE_NONE;
  char *plain = path_in("plain.png");
  dg_check_status(dg_generation_png_write(plain, rgb, 3, &w), "write a PNG without guidance");
  if (dg_check_status(dg_png_read_texts(plain, &texts), "read its chunks")) {
    const char *params = dg_png_text_find(&texts, "parameters");
    dg_check(params && !strstr(params, "Guidance"), "no guidance, no Guidance field: %s", params);
    dg_png_text_list_free(&texts);
  }
  // An unknown guidance is a format error naming it, in either chunk.
  const char bad_job[] = "dirigent\0{\"prompt\": \"a car\", \"steps\": 3, \"guidance\": \"sideways\"}";
  char *badj = png_with("badj.png", "tEXt", bad_job, sizeof bad_job - 1);
  dg_check_error(dg_generation_png_read(badj, &g), DG_ERR_FORMAT, "unknown attention guidance 'sideways'",
                 "an unknown guidance in the job chunk");
  const char bad_params[] = "parameters\0a car\nSteps: 7, Sampler: DDIM, Seed: 9, Size: 4x2, Guidance: sideways";
  char *badp = png_with("badp.png", "tEXt", bad_params, sizeof bad_params - 1);
  dg_check_error(dg_generation_png_read(badp, &g), DG_ERR_FORMAT, "unknown attention guidance 'sideways'",
                 "an unknown guidance in the parameters chunk");
  const char a1111_marks[] = "parameters\0a red car\nSteps: 7, Sampler: DDIM, Seed: 9, Size: 4x2, "
                             "Marks: \"red:car, car#2\", Model: m";
  char *pmarks = png_with("pmarks.png", "tEXt", a1111_marks, sizeof a1111_marks - 1);
  if (dg_check_status(dg_generation_png_read(pmarks, &g), "read marks from parameters")) {
    dg_check(!strcmp(g.marks, "red:car, car#2") && g.steps == 7, "marks from parameters: '%s'", g.marks);
    dg_check(g.guidance == DG_GUIDANCE_NONE, "no Guidance field: none");
    dg_generation_info_clear(&g);
  }
  const char a1111_guided[] = "parameters\0a red car\nSteps: 7, Sampler: DDIM, Seed: 9, Size: 4x2, "
                              "Marks: \"red:car\", Guidance: attend-excite";
  char *pguided = png_with("pguided.png", "tEXt", a1111_guided, sizeof a1111_guided - 1);
  if (dg_check_status(dg_generation_png_read(pguided, &g), "read the guidance from parameters")) {
    dg_check(g.guidance == DG_GUIDANCE_ATTEND_EXCITE && !strcmp(g.marks, "red:car"), "guidance from parameters: %d",
             (int)g.guidance);
    dg_generation_info_clear(&g);
  }
  if (dg_check_status(dg_generation_png_read(latin1, &g), "an old file")) {
    dg_check(g.marks && !*g.marks && g.guidance == DG_GUIDANCE_NONE, "an old file has no marks and no guidance");
    dg_generation_info_clear(&g);
  }

  // The control scale (the editor's layout strength): in the job chunk always, in `parameters` unless 1.
  char *strong = path_in("strong.png");
  w.control_scale = 1.75;
  dg_check_status(dg_generation_png_write(strong, rgb, 3, &w), "write a PNG with control scale 1.75");
  if (dg_check_status(dg_generation_png_read(strong, &g), "read it back")) {
    dg_check(g.control_scale == 1.75, "control scale from the job chunk: %g", g.control_scale);
    dg_generation_info_clear(&g);
  }
  if (dg_check_status(dg_png_read_texts(strong, &texts), "read its chunks")) {
    const char *params = dg_png_text_find(&texts, "parameters"), *job = dg_png_text_find(&texts, "dirigent");
    dg_check(params && strstr(params, ", Control scale: 1.75"), "parameters name the control scale: %s", params);
    dg_check(job && strstr(job, "\"control_scale\":1.75"), "the job holds it: %s", job);
    dg_png_text_list_free(&texts);
  }
  w.control_scale = 0; // not set: the ControlNet as trained
  dg_check_status(dg_generation_png_write(strong, rgb, 3, &w), "write a PNG without a control scale");
  if (dg_check_status(dg_png_read_texts(strong, &texts), "read its chunks")) {
    const char *params = dg_png_text_find(&texts, "parameters"), *job = dg_png_text_find(&texts, "dirigent");
    dg_check(params && !strstr(params, "Control scale"), "1: no Control scale field: %s", params);
    dg_check(job && strstr(job, "\"control_scale\":1"), "the job holds 1: %s", job);
    dg_png_text_list_free(&texts);
  }
  // Files without it (older ones, other tools') read as 1; `parameters` alone gives it back.
  const char old_job[] = "dirigent\0{\"prompt\": \"a car\", \"steps\": 3, \"cfg\": 4}";
  char *oldj = png_with("oldj.png", "tEXt", old_job, sizeof old_job - 1);
  if (dg_check_status(dg_generation_png_read(oldj, &g), "a job chunk without control_scale")) {
    dg_check(g.control_scale == 1 && g.cfg == 4, "  ... reads as 1 (%g)", g.control_scale);
    dg_generation_info_clear(&g);
  }
  if (dg_check_status(dg_generation_png_read(latin1, &g), "an A1111 file")) {
    dg_check(g.control_scale == 1, "  ... reads as 1 (%g)", g.control_scale);
    dg_generation_info_clear(&g);
  }
  const char a1111_strong[] = "parameters\0a red car\nSteps: 7, Sampler: DDIM, CFG scale: 5, Seed: 9, Size: 4x2, "
                              "Model: m, ControlNet: layout, Control scale: 2.5";
  char *pstrong = png_with("pstrong.png", "tEXt", a1111_strong, sizeof a1111_strong - 1);
  if (dg_check_status(dg_generation_png_read(pstrong, &g), "read the control scale from parameters")) {
    dg_check(g.control_scale == 2.5 && g.cfg == 5, "control scale from parameters: %g", g.control_scale);
    // What the editor does on opening it: the document takes it as one undo step.
    dg_document *restored = dg_document_new(8, 8);
    dg_check(dg_document_set_control_scale(restored, g.control_scale) == DG_OK &&
                 dg_document_control_scale(restored) == 2.5 && dg_document_undo_depth(restored) == 1,
             "the document takes the PNG's layout strength");
    dg_document_free(restored);
    dg_generation_info_clear(&g);
  }
  // Out of range or not a number: a format error naming the file and the value.
  static const struct {
    const char *type, *text, *message;
  } bad_scale[] = {
      {"dirigent", "{\"prompt\": \"p\", \"control_scale\": 9}", "control_scale 9 out of range"},
      {"dirigent", "{\"prompt\": \"p\", \"control_scale\": 0}", "control_scale 0 out of range"},
      {"dirigent", "{\"prompt\": \"p\", \"control_scale\": -2}", "control_scale -2 out of range"},
      {"dirigent", "{\"prompt\": \"p\", \"control_scale\": \"1\"}", "control_scale nan out of range"},
      {"parameters", "a car\nSteps: 7, Seed: 9, Control scale: 7", "control scale 7 out of range"},
      {"parameters", "a car\nSteps: 7, Seed: 9, Control scale: 0", "control scale 0 out of range"},
  };
  for (size_t i = 0; i < sizeof bad_scale / sizeof *bad_scale; i++) {
    char chunk[256];
    size_t len = (size_t)snprintf(chunk, sizeof chunk, "%s%c%s", bad_scale[i].type, 0, bad_scale[i].text);
    char *png = png_with("scale.png", "tEXt", chunk, len);
    dg_check_error(dg_generation_png_read(png, &g), DG_ERR_FORMAT, bad_scale[i].message, bad_scale[i].text);
    dg_check(strstr(dg_last_error(), "scale.png") != NULL, "  ... naming the file: %s", dg_last_error());
    unlink(png);
    g_free(png);
  }

  // The document itself refuses text that is not UTF-8 and keeps what it had.
  dg_document *doc = dg_document_new(32, 64);
  dg_document_set_text(doc, DG_FIELD_PROMPT, "kept", false);
  dg_check_error(dg_document_set_text(doc, DG_FIELD_PROMPT, "caf\xe9", false), DG_ERR_ARG, "not valid UTF-8",
                 "invalid UTF-8 prompt");
  dg_check(!strcmp(dg_document_prompt(doc), "kept"), "the prompt is unchanged");
  dg_document_free(doc);

  const char *files[] = {latin1, ztxt,  bad_itxt, deep_png, ours,   marked, pmarks,
                         plain,  badj,  badp,     pguided,  strong, oldj,   pstrong};
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    unlink(files[i]);
    g_free((char *)files[i]);
  }
  rmdir(dir);
  g_free(dir);
  return dg_check_finish("test_generation_png");
}
