// The editor's job function (app/dg_runner) on the tiny complete model: a document with marks gets the
// marked words' attention maps with every step's report (labels in dg_marks_list order, maps that are
// probabilities after the softmax over the prompt's tokens and the smoothing: in [0, 1], not all
// equal); marks that no longer resolve (a word edited out of the prompt) cost the maps, not the image,
// unless an attention guidance needs them. Jobs with the same prompt and negative prompt run the text
// encoder once (the runner's cache).
#include <glib.h>
#include <string.h>

#include "dg_check.h"
#include "dg_job.h"
#include "dg_runner.h"

static int run(dg_document *doc, dg_runner *r, int *steps_with_maps, dg_job_update *last) {
  dg_status st;
  dg_job *job = dg_job_start(doc, dg_runner_run, r, 0, &st);
  if (!job) return dg_check_status(st, "start"), -1;
  *steps_with_maps = 0;
  memset(last, 0, sizeof *last);
  while (true) {
    dg_job_update u;
    bool got = dg_job_poll(job, &u);
    if (got) {
      *steps_with_maps += u.maps != NULL;
      dg_job_update_clear(last);
      *last = u;
    } else if (dg_job_state_get(job) != DG_JOB_RUNNING) {
      break;
    } else {
      g_usleep(1000);
    }
  }
  int state = dg_job_wait(job);
  if (state != DG_JOB_DONE) dg_check(false, "job failed: %s", dg_job_error(job) ? dg_job_error(job) : "?");
  dg_job_free(job);
  return state;
}

int main(void) {
  dg_runner *r = dg_runner_new(NULL, DG_SOURCE_DIR "/assets/palettes/world.json");
  dg_document *doc = dg_document_new(32, 64);
  dg_document_set_text(doc, DG_FIELD_MODEL, DG_PIPELINE_DIR "/tiny_model", false);
  dg_document_set_text(doc, DG_FIELD_PROMPT, "a red car and a blue car", false);
  dg_document_set_text(doc, DG_FIELD_MARKS, "red:car, car#2", false);
  dg_document_set_steps(doc, 3);
  int with_maps;
  dg_job_update last;
  if (run(doc, r, &with_maps, &last) == DG_JOB_DONE) {
    dg_check(with_maps >= 1 && last.maps && last.total == 3 && last.step == 2, "maps with the reports (%d, last step %d)", with_maps,
             last.step);
    if (last.maps) {
      dg_check(last.map_count == 3 && !strcmp(last.map_labels, "red\ncar\ncar#2") && last.map_h == 16 &&
                   last.map_w == 32,
               "3 maps of 16x32 named red, car, car#2 (%d of %dx%d: %s)", last.map_count, last.map_h, last.map_w,
               last.map_labels);
      int n = last.map_count * last.map_h * last.map_w;
      bool in_range = true, varies = false;
      for (int i = 0; i < n; i++)
        in_range &= last.maps[i] >= 0 && last.maps[i] <= 1, varies |= last.maps[i] != last.maps[0];
      dg_check(in_range && varies, "maps in [0, 1] that vary");
    }
  }
  dg_job_update_clear(&last);
  dg_document_set_text(doc, DG_FIELD_MARKS, "boat", false);
  if (run(doc, r, &with_maps, &last) == DG_JOB_DONE) dg_check(with_maps == 0, "marks that do not resolve: no maps");
  dg_job_update_clear(&last);
  dg_document_set_text(doc, DG_FIELD_MARKS, "", false);
  if (run(doc, r, &with_maps, &last) == DG_JOB_DONE) dg_check(with_maps == 0, "no marks: no maps (no capture)");
  dg_job_update_clear(&last);
  dg_generate_cache_stats cs;
  dg_runner_cache_stats(r, &cs);
  dg_check(cs.text_encodes == 2 && cs.text_hits == 4,
           "3 jobs, one prompt: the text encoder ran for 2 texts, not 6 (%d run, %d reused)", cs.text_encodes,
           cs.text_hits);
  // With an attention guidance the marks are needed: a word not in the prompt fails the job naming it;
  // no marks use the suggestion (car), and a prompt with nothing to suggest fails saying so.
  dg_document_set_text(doc, DG_FIELD_ATTN_GUIDANCE, "divide-bind", false);
  dg_document_set_steps(doc, 1);
  const struct { const char *prompt, *marks, *error; } cases[] = {
      {"a red car and a blue car", "boat", "'boat'"},
      {"a red car and a blue car", "", NULL},
      {"quiet dusk", "", "needs at least one marked object"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    dg_document_set_text(doc, DG_FIELD_PROMPT, cases[i].prompt, false);
    dg_document_set_text(doc, DG_FIELD_MARKS, cases[i].marks, false);
    dg_status st;
    dg_job *job = dg_job_start(doc, dg_runner_run, r, 0, &st);
    int state = job ? (int)dg_job_wait(job) : -1;
    if (cases[i].error)
      dg_check(state == DG_JOB_FAILED && strstr(dg_job_error(job), cases[i].error), "guidance case %zu fails: %s", i,
               job ? dg_job_error(job) : "?");
    else
      dg_check(state == DG_JOB_DONE, "guidance case %zu runs: %s", i, job ? dg_job_error(job) : "?");
    dg_job_free(job);
  }
  // A prompt longer than the text encoder reads: the job notes what was left out; a short one has no note.
  dg_document_set_text(doc, DG_FIELD_ATTN_GUIDANCE, "none", false);
  dg_document_set_text(doc, DG_FIELD_MARKS, "", false);
  const char *prompts[] = {"a cinematic photograph of a lonely vintage automobile beside a rain-soaked cobblestone "
                           "boulevard, neon reflections, volumetric fog, highly detailed, a red car at night",
                           "a red car"};
  for (int i = 0; i < 2; i++) {
    dg_document_set_text(doc, DG_FIELD_PROMPT, prompts[i], false);
    dg_status st;
    dg_job *job = dg_job_start(doc, dg_runner_run, r, 0, &st);
    int state = job ? (int)dg_job_wait(job) : -1;
    char *note = job ? dg_job_note(job) : NULL;
    if (i == 0)
      dg_check(state == DG_JOB_DONE && note && strstr(note, "the prompt is ") &&
                   strstr(note, "the text encoder reads the first 75; left out: \"") && strstr(note, "a red car at night\""),
               "a long prompt's note: %s", note ? note : "(none)");
    else
      dg_check(state == DG_JOB_DONE && !note, "a short prompt: no note (%s)", note ? note : "none");
    free(note);
    dg_job_free(job);
  }
  dg_document_free(doc);
  dg_runner_free(r);
  return dg_check_finish("test_runner_maps");
}
