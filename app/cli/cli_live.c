// `dirigent-cli live --replay EDITS.jsonl --out DIR`: replays a recorded editing session (app/dg_live_edits)
// in real time on a document in live mode, scheduled by the editor's own policy (app/dg_live_session:
// debounce, stale jobs cancelled, the full render when the edits pause) with the editor's job path (dg_job
// on a worker thread running app/dg_runner, its caches warm between jobs). Writes each live frame and full
// render as PNG, frames.jsonl (one line per image: the newest edit it includes, the latency from that
// edit to the image being ready, steps, cancelled jobs before it) and summary.json (latency median, p90,
// per-edit latency, lost edits: edits that no image ever included; 0 when the last state was rendered).
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_cli.h"
#include "dg_eval_metrics.h"
#include "dg_json_glib.h"
#include "dg_live_edits.h"
#include "dg_live_session.h"
#include "dg_png.h"
#include "dg_runner.h"
#include "dg_settings.h"
#include "dg_assets.h"
#include "dg_world.h"

#define POLL_MS 5
#define IDLE_LIMIT_S 600.0 // after the last edit, the full render must land within this

typedef struct replay {
  const char *out;
  dg_job_sampling live; // a live frame's
  bool quiet;
  dg_live_edits *edits;
  int n;          // edits
  double *t_ms;   // when each edit was applied (ms since the start)
  int *served_by; // the first image (index into images) that includes each edit, -1 none yet
  int applied;    // edits applied so far
  gint64 t0_us;
  GMainLoop *loop;
  DgDocument *doc;
  dg_live_session *session;
  dg_runner *runner;
  dg_job *job;
  dg_live_job_kind kind;
  bool cancel_asked;
  int job_applied; // edits the running job includes
  double job_start_ms;
  int first_step, last_step; // the job's step reports seen: the first and the last, with their times (s)
  double first_s, last_s;
  int cancelled, failed, cancelled_since; // jobs
  GArray *latency, *job_ms;               // double ms of the live frames after an edit
  GArray *ready;                          // double ms: when each image was ready
  double first_ms;                        // the first frame (live mode on; loads the model), ms
  int images, fulls, last_full_applied;
  FILE *frames;
  dg_status status; // a failure that ends the replay
} replay;

static double now_ms(const replay *r) { return (double)(g_get_monotonic_time() - r->t0_us) / 1000.0; }

static gboolean drv_start(void *user, DgDocument *doc, dg_live_job_kind kind, uint64_t seed, GError **error) {
  replay *r = user;
  dg_status st = DG_OK;
  bool frame = kind == DG_LIVE_JOB_FRAME;
  r->job = dg_job_start_sampling(dg_document_object_get_model(doc), dg_runner_run, r->runner, seed,
                                 frame ? &r->live : NULL, &st);
  if (!r->job) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, dg_last_error());
    return FALSE;
  }
  r->kind = kind, r->cancel_asked = false, r->job_applied = r->applied, r->job_start_ms = now_ms(r);
  r->first_step = r->last_step = -1;
  return TRUE;
}
static gboolean drv_busy(void *user) { return ((replay *)user)->job != NULL; }
static void drv_cancel(void *user) {
  replay *r = user;
  if (r->job) dg_job_cancel(r->job), r->cancel_asked = true;
}
static void drv_failure(void *user, const char *message) {
  if (message) fprintf(stderr, "live: a live job failed: %s\n", message);
  (void)user;
}

// The image of the job that ended: written, logged, and the edits it includes served.
static void image_ready(replay *r, dg_media *m, double ready_ms) {
  bool frame = r->kind == DG_LIVE_JOB_FRAME;
  int newest = r->job_applied - 1; // -1: the document as it was before the first edit
  double latency = ready_ms - (newest >= 0 ? r->t_ms[newest] : 0), job = ready_ms - r->job_start_ms;
  // The stages from the step reports: before the first step (model, text encodings, hint), a step, after
  // the last one (VAE decode, read back).
  int steps = dg_job_params_get(r->job)->steps;
  double step = r->last_step > r->first_step ? (r->last_s - r->first_s) / (r->last_step - r->first_step) * 1e3 : 0;
  double setup = r->first_step >= 0 ? r->first_s * 1e3 - (r->first_step + 1) * step : 0;
  double decode = r->last_step == steps - 1 ? job - r->last_s * 1e3 : 0;
  char *name = frame ? g_strdup_printf("frame_%04d.png", r->images) : g_strdup_printf("full_%04d.png", r->images);
  char *path = g_build_filename(r->out, name, NULL);
  dg_status st = m->channels == 4 ? dg_png_write_rgba8(path, m->width, m->height, m->data, NULL)
                                  : dg_png_write_rgb8(path, m->width, m->height, m->data, NULL);
  if (st != DG_OK) r->status = st;
  for (int i = 0; i < r->job_applied; i++)
    if (r->served_by[i] < 0) r->served_by[i] = r->images;
  fprintf(r->frames,
          "{\"image\": %d, \"file\": \"%s\", \"kind\": \"%s\", \"edit\": %d, \"edits_included\": %d, "
          "\"latency_ms\": %.1f, \"job_ms\": %.1f, \"steps\": %d, \"cfg\": %g, \"control_scale\": %g, "
          "\"cancelled_before\": %d, \"setup_ms\": %.1f, \"step_ms\": %.1f, \"decode_ms\": %.1f}\n",
          r->images, name, frame ? "frame" : "full", newest, r->job_applied, latency, job, steps,
          dg_job_params_get(r->job)->guidance, dg_job_params_get(r->job)->control_scale, r->cancelled_since, setup,
          step, decode);
  fflush(r->frames);
  g_array_append_val(r->ready, ready_ms);
  if (frame && newest < 0 && !r->first_ms) r->first_ms = ready_ms;
  else if (frame) g_array_append_val(r->latency, latency), g_array_append_val(r->job_ms, job);
  else r->fulls++, r->last_full_applied = r->job_applied;
  if (!r->quiet)
    fprintf(stderr, "%8.0f ms  %-5s %s  edit %d/%d  latency %.0f ms  job %.0f ms\n", ready_ms, frame ? "frame" : "full",
            name, newest + 1, r->n, latency, job);
  r->images++, r->cancelled_since = 0;
  g_free(name), g_free(path);
}

static gboolean poll_job(gpointer data) {
  replay *r = data;
  dg_job_update u;
  while (r->job && dg_job_poll(r->job, &u)) {
    if (r->first_step < 0) r->first_step = u.step, r->first_s = u.elapsed_s;
    r->last_step = u.step, r->last_s = u.elapsed_s;
    dg_job_update_clear(&u);
  }
  if (r->job && dg_job_state_get(r->job) != DG_JOB_RUNNING) {
    double ready = now_ms(r);
    dg_job_state state = dg_job_wait(r->job);
    dg_live_end end = state == DG_JOB_FAILED ? DG_LIVE_END_FAILED
                      : state == DG_JOB_DONE && !r->cancel_asked ? DG_LIVE_END_DONE
                                                                 : DG_LIVE_END_CANCELLED;
    dg_media m = {0};
    if (end == DG_LIVE_END_DONE && dg_job_take_media(r->job, &m)) image_ready(r, &m, ready);
    dg_media_clear(&m);
    if (end == DG_LIVE_END_CANCELLED) r->cancelled++, r->cancelled_since++;
    if (end == DG_LIVE_END_FAILED) r->failed++;
    char *message = g_strdup(end == DG_LIVE_END_FAILED ? dg_job_error(r->job) : "");
    dg_job_free(r->job);
    r->job = NULL;
    dg_live_session_job_ended(r->session, end, message);
    g_free(message);
  }
  // Done: every edit applied and the full render of the last state landed (or the replay failed).
  bool idle = !r->job && !dg_live_session_running(r->session, NULL);
  if (r->status != DG_OK || (r->applied == r->n && idle && r->fulls && r->last_full_applied == r->n) ||
      (r->applied == r->n && now_ms(r) - r->t_ms[r->n - 1] > IDLE_LIMIT_S * 1e3)) {
    g_main_loop_quit(r->loop);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean apply_next(gpointer data) {
  replay *r = data;
  int i = r->applied;
  dg_status st = dg_live_edits_apply(r->edits, i, r->doc);
  if (st != DG_OK) {
    r->status = st;
    return G_SOURCE_REMOVE;
  }
  r->t_ms[i] = now_ms(r);
  r->applied++;
  if (r->applied < r->n) {
    double wait = dg_live_edits_time_ms(r->edits, r->applied) - now_ms(r);
    g_timeout_add(wait > 0 ? (guint)wait : 0, apply_next, r);
  }
  return G_SOURCE_REMOVE;
}

static char *json_string(const char *s) {
  JsonNode *n = json_node_new(JSON_NODE_VALUE);
  json_node_set_string(n, s);
  char *t = json_to_string(n, FALSE);
  json_node_free(n);
  return t;
}

// The final state: its layout as DIR/layout.png (world palette ids) and its settings, for a fresh render.
static char *final_state(replay *r) {
  dg_document *m = dg_document_object_get_model(r->doc);
  char *path = g_build_filename(r->out, "layout.png", NULL);
  if (dg_png_write_label(path, dg_document_width(m), dg_document_height(m), dg_document_layout(m), dg_world_palette(),
                         NULL) != DG_OK)
    r->status = DG_ERR_IO;
  char *prompt = json_string(dg_document_prompt(m)), *neg = json_string(dg_document_negative(m));
  char *t = g_strdup_printf("{\"layout\": \"layout.png\", \"prompt\": %s, \"negative\": %s, \"seed\": %" G_GUINT64_FORMAT
                            ", \"steps\": %d, \"cfg\": %g, \"control_scale\": %g, \"width\": %d, \"height\": %d}",
                            prompt, neg, (guint64)(dg_document_seed_random(m) ? dg_live_session_seed(r->session) : dg_document_seed(m)),
                            dg_document_steps(m),
                            dg_document_guidance(m), dg_document_control_scale(m), dg_document_width(m),
                            dg_document_height(m));
  g_free(path), g_free(prompt), g_free(neg);
  return t;
}

static dg_status write_summary(replay *r, FILE *out) {
  int lost = 0, served = 0;
  double *edit_lat = g_new0(double, r->n ? r->n : 1);
  for (int i = 0; i < r->n; i++) {
    if (r->served_by[i] < 0) lost++;
    else edit_lat[served++] = g_array_index(r->ready, double, r->served_by[i]) - r->t_ms[i];
  }
  int nf = (int)r->latency->len;
  double *lat = (double *)(void *)r->latency->data, *job = (double *)(void *)r->job_ms->data;
  double lmed = dg_eval_quantile(lat, nf, 0.5), lp90 = dg_eval_quantile(lat, nf, 0.9), lmax = nf ? lat[nf - 1] : 0;
  double jmed = dg_eval_quantile(job, nf, 0.5), jp90 = dg_eval_quantile(job, nf, 0.9);
  double emed = dg_eval_quantile(edit_lat, served, 0.5), ep90 = dg_eval_quantile(edit_lat, served, 0.9);
  dg_generate_cache_stats cs;
  dg_runner_cache_stats(r->runner, &cs);
  char *final = final_state(r), *load = NULL;
  if (!g_file_get_contents("/proc/loadavg", &load, NULL, NULL)) load = g_strdup("");
  g_strdelimit(load, "\n", ' ');
  char *load_json = json_string(g_strstrip(load));
  char *text = g_strdup_printf(
      "{\n  \"edits\": %d,\n  \"frames\": %d,\n  \"full_renders\": %d,\n  \"cancelled_jobs\": %d,\n"
      "  \"failed_jobs\": %d,\n  \"lost_edits\": %d,\n  \"last_state_rendered\": %s,\n  \"frame_steps\": %d,\n"
      "  \"frame_cfg\": %g,\n  \"frame_control_scale\": %g,\n  \"frame_decoder\": \"%s\",\n  \"first_frame_ms\": %.1f,\n  \"frame_latency_ms\": {\"median\": %.1f, \"p90\": %.1f, \"max\": %.1f},\n"
      "  \"frame_job_ms\": {\"median\": %.1f, \"p90\": %.1f},\n"
      "  \"edit_latency_ms\": {\"median\": %.1f, \"p90\": %.1f, \"count\": %d},\n"
      "  \"text_encodings\": {\"run\": %d, \"reused\": %d},\n  \"hints\": {\"built\": %d, \"reused\": %d},\n"
      "  \"final\": %s,\n  \"loadavg\": %s\n}\n",
      r->n, nf, r->fulls, r->cancelled, r->failed, lost, r->last_full_applied == r->n ? "true" : "false", r->live.steps,
      r->live.guidance, r->live.control_scale,
      r->live.fast_decode && dg_runner_has_tiny_decoder(r->runner) ? "tiny" : "vae", r->first_ms, lmed, lp90, lmax, jmed, jp90, emed, ep90, served, cs.text_encodes, cs.text_hits, cs.hint_builds,
      cs.hint_hits, final, load_json);
  char *path = g_build_filename(r->out, "summary.json", NULL);
  GError *err = NULL;
  dg_status st = g_file_set_contents(path, text, -1, &err) ? DG_OK : dg_fail(DG_ERR_IO, "%s", err->message);
  g_clear_error(&err);
  fputs(text, out);
  g_free(path), g_free(text), g_free(edit_lat), g_free(final), g_free(load), g_free(load_json);
  if (st == DG_OK) st = r->status;
  if (st == DG_OK && lost) st = dg_fail(DG_ERR_IO, "live: %d edits never reached an image", lost);
  return st;
}

static void usage(FILE *f) {
  fprintf(f, "usage: dirigent-cli live --replay EDITS.jsonl --out DIR [options]\n\n"
             "Replays a recorded editing session in real time in live mode (the editor's scheduling: %d ms\n"
             "debounce, stale jobs cancelled, the full render %d ms after the last frame) and writes each live\n"
             "frame and full render (DIR/frame_NNNN.png, DIR/full_NNNN.png), DIR/frames.jsonl and\n"
             "DIR/summary.json. The edit format: docs/cli.md.\n\n"
             "  --model DIR|FILE    model folder or checkpoint (default: the editor's default model)\n"
             "  --steps N           a live frame's DDIM steps (default %d)\n"
             "  --cfg X             a live frame's guidance scale (default %g)\n"
             "  --control-scale X   a live frame's layout ControlNet scale as a factor on the document's layout\n"
             "                      strength (default %g; the strength is 1 unless an edit sets it)\n"
             "  --decoder tiny|vae  a live frame's latent decoder: the model's tiny decoder where it has one\n"
             "                      (default), or the VAE's\n"
             "  --quiet             no line per image\n",
          DG_LIVE_DEBOUNCE_MS, DG_LIVE_SETTLE_MS, DG_SETTINGS_LIVE_STEPS, DG_SETTINGS_LIVE_GUIDANCE,
          DG_SETTINGS_LIVE_CONTROL_SCALE);
}

int dg_cli_live(int argc, char **argv) {
  const char *edits_path = NULL, *model = NULL;
  replay r = {.live = DG_SETTINGS_LIVE_SAMPLING};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    }
    if (!strcmp(a, "--quiet")) {
      r.quiet = true;
      continue;
    }
    const char *v = i + 1 < argc ? argv[++i] : NULL;
    long n;
    if (!v) {
      fprintf(stderr, "live: %s needs a value (or is unknown)\n", a);
      return 2;
    }
    if (!strcmp(a, "--replay")) edits_path = v;
    else if (!strcmp(a, "--out")) r.out = v;
    else if (!strcmp(a, "--model")) model = v;
    else if (!strcmp(a, "--steps") && dg_cli_parse_long(v, 1, DG_SETTINGS_MAX_STEPS, &n)) r.live.steps = (int)n;
    else if (!strcmp(a, "--decoder") && (!strcmp(v, "vae") || !strcmp(v, "tiny"))) r.live.fast_decode = !strcmp(v, "tiny");
    else if (!strcmp(a, "--cfg") || !strcmp(a, "--control-scale")) {
      dg_cli_sampling cs = {0};
      if (dg_cli_sampling_option("live", a, v, &cs) < 0) return 2;
      if (cs.control_scale > 0) r.live.control_scale = cs.control_scale;
      else r.live.guidance = cs.cfg;
    } else {
      fprintf(stderr, "live: bad option or value: %s %s\n", a, v);
      return 2;
    }
  }
  if (!edits_path || !r.out) {
    fprintf(stderr, "live: --replay EDITS.jsonl and --out DIR are required\n");
    usage(stderr);
    return 2;
  }
  dg_status st = DG_OK;
  r.edits = dg_live_edits_load(edits_path, &st);
  if (!r.edits) {
    fprintf(stderr, "live: %s\n", dg_last_error());
    return 1;
  }
  if (g_mkdir_with_parents(r.out, 0755) != 0) {
    fprintf(stderr, "live: cannot create %s\n", r.out);
    dg_live_edits_free(r.edits);
    return 1;
  }
  char *frames_path = g_build_filename(r.out, "frames.jsonl", NULL);
  r.frames = fopen(frames_path, "w");
  g_free(frames_path);
  char *tok = dg_assets_path("tokenizer"), *pal = dg_assets_path("palettes/world.json");
  r.runner = r.frames ? dg_runner_new(tok, pal) : NULL;
  g_free(tok), g_free(pal);
  if (!r.runner) {
    fprintf(stderr, "live: %s\n", r.frames ? dg_last_error() : "cannot write frames.jsonl");
    if (r.frames) fclose(r.frames);
    dg_live_edits_free(r.edits);
    return 1;
  }
  int w, h;
  dg_live_edits_canvas(r.edits, &w, &h);
  dg_document *m = dg_document_new(h, w);
  if (model) {
    char *abs = g_canonicalize_filename(model, NULL);
    st = dg_document_set_text(m, DG_FIELD_MODEL, abs, false);
    g_free(abs);
  }
  r.doc = dg_document_object_new(m);
  r.n = dg_live_edits_count(r.edits);
  r.t_ms = g_new0(double, r.n);
  r.served_by = g_new(int, r.n);
  for (int i = 0; i < r.n; i++)
    r.served_by[i] = -1;
  r.latency = g_array_new(FALSE, FALSE, sizeof(double));
  r.job_ms = g_array_new(FALSE, FALSE, sizeof(double));
  r.ready = g_array_new(FALSE, FALSE, sizeof(double));
  r.loop = g_main_loop_new(NULL, FALSE);
  static const dg_live_driver driver = {.start = drv_start, .busy = drv_busy, .cancel = drv_cancel,
                                        .failure = drv_failure};
  r.session = dg_live_session_new(&driver, &r);
  dg_live_session_set_document(r.session, r.doc);
  r.t0_us = g_get_monotonic_time();
  dg_document_set_live(m, true); // t = 0: the first frame shows the document as it starts
  double first = dg_live_edits_time_ms(r.edits, 0);
  g_timeout_add(first > 0 ? (guint)first : 0, apply_next, &r);
  g_timeout_add(POLL_MS, poll_job, &r);
  if (st == DG_OK) g_main_loop_run(r.loop);
  if (r.job) dg_job_free(r.job), r.job = NULL;
  fclose(r.frames);
  if (st == DG_OK) st = r.status;
  if (st == DG_OK) st = write_summary(&r, stdout);
  if (st != DG_OK) fprintf(stderr, "live: %s\n", dg_last_error());
  dg_live_session_free(r.session);
  g_object_unref(r.doc);
  g_main_loop_unref(r.loop);
  dg_runner_free(r.runner);
  dg_live_edits_free(r.edits);
  g_array_free(r.latency, TRUE), g_array_free(r.job_ms, TRUE), g_array_free(r.ready, TRUE);
  g_free(r.t_ms), g_free(r.served_by);
  return st == DG_OK ? 0 : 1;
}
