// The editor's job function (app/dg_runner) on a video job: a model folder (the tiny model with the tiny
// video UNet as its video_unet.safetensors) and the document's timeline give F RGBA frames with a
// preview of the playhead's frame every step and the temporal attention matrix; cancel stops the job; a model without a
// video UNet fails the job naming what is missing. The video UNet loads at the first video job only: an image job
// before it loads none, later video jobs reuse it, and one that cannot be read fails each video job naming it while
// image jobs go on.
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dg_check.h"
#include "dg_job.h"
#include "dg_runner.h"

// The first progress update of the last job that carried the temporal attention: its step (-1: none came) and
// the matrix.
static int attention_seen_at;
static float attention_seen[16 * 16];

// Runs a video job previewing frame `playhead` to its end; *reports counts the progress reports with a
// preview; move_to >= 0 moves the playhead there after the first report (run: never); cancel_at >= 0
// cancels after that step's report. *first (may be NULL) gets the first report, *last the last.
static int run_moving(dg_document *doc, dg_runner *r, int playhead, int move_to, int cancel_at, int *reports,
                      dg_job_update *first, dg_job_update *last, dg_video_result *out) {
  dg_status st;
  dg_job *job = dg_job_start_video(doc, dg_runner_run, r, 0, playhead, &st);
  if (!job) return dg_check_status(st, "start video"), -1;
  *reports = 0;
  attention_seen_at = -1;
  memset(last, 0, sizeof *last);
  while (true) {
    dg_job_update u;
    if (dg_job_poll(job, &u)) {
      *reports += u.preview != NULL;
      if (u.attention && attention_seen_at < 0 && u.attention_frames <= 16) {
        attention_seen_at = u.step;
        memcpy(attention_seen, u.attention, (size_t)u.attention_frames * u.attention_frames * sizeof(float));
      }
      if (first && *reports == 1 && u.preview) { // a copy of the first preview
        *first = u;
        first->maps = NULL, first->map_labels = NULL;
        size_t n = (size_t)u.preview_width * u.preview_height * 4;
        if ((first->preview = malloc(n))) memcpy(first->preview, u.preview, n);
      }
      dg_job_update_clear(last);
      *last = u;
      if (cancel_at >= 0 && u.step >= cancel_at) dg_job_cancel(job);
      if (move_to >= 0 && *reports == 1) dg_job_set_preview_frame(job, move_to); // the playhead moved
    } else if (dg_job_state_get(job) != DG_JOB_RUNNING) {
      break;
    } else {
      g_usleep(1000);
    }
  }
  int state = dg_job_wait(job);
  if (state == DG_JOB_FAILED) printf("job failed: %s\n", dg_job_error(job) ? dg_job_error(job) : "?");
  if (state == DG_JOB_DONE) dg_job_take_video(job, out);
  dg_job_free(job);
  return state;
}

static int run(dg_document *doc, dg_runner *r, int playhead, int cancel_at, int *reports, dg_job_update *last,
               dg_video_result *out) {
  return run_moving(doc, r, playhead, -1, cancel_at, reports, NULL, last, out);
}

// An image job to its end: its state.
static int run_image(dg_document *doc, dg_runner *r) {
  dg_status st;
  dg_job *job = dg_job_start(doc, dg_runner_run, r, 0, &st);
  if (!job) return dg_check_status(st, "start image"), -1;
  int state = dg_job_wait(job);
  if (state == DG_JOB_FAILED) printf("image job failed: %s\n", dg_job_error(job) ? dg_job_error(job) : "?");
  dg_job_free(job);
  return state;
}

// A model folder of links to the tiny model's files (and the video UNet when `video`).
static char *model_folder(bool video) {
  char *dir = g_dir_make_tmp("dg-runner-video-XXXXXX", NULL);
  const char *files[] = {"text_encoder.safetensors", "unet.safetensors", "vae.safetensors",
                         "controlnet_aldm.safetensors", "tokenizer"};
  for (int i = 0; dir && i < 5; i++) {
    char *src = g_build_filename(DG_PIPELINE_DIR, "tiny_model", files[i], NULL), *dst = g_build_filename(dir, files[i], NULL);
    dg_check(symlink(src, dst) == 0, "link %s", dst);
    g_free(src), g_free(dst);
  }
  if (dir && video) {
    char *dst = g_build_filename(dir, "video_unet.safetensors", NULL);
    dg_check(symlink(DG_PIPELINE_DIR "/tiny_video_unet.safetensors", dst) == 0, "link the video UNet");
    g_free(dst);
  }
  return dir;
}

static void remove_folder(char *dir) {
  const char *files[] = {"text_encoder.safetensors", "unet.safetensors", "vae.safetensors",
                         "controlnet_aldm.safetensors", "tokenizer", "video_unet.safetensors"};
  for (int i = 0; dir && i < 6; i++) {
    char *p = g_build_filename(dir, files[i], NULL);
    g_unlink(p);
    g_free(p);
  }
  if (dir) g_rmdir(dir);
  g_free(dir);
}

int main(void) {
  char *with = model_folder(true), *without = model_folder(false);
  dg_runner *r = dg_runner_new(NULL, DG_SOURCE_DIR "/assets/palettes/world.json");
  dg_document *doc = dg_document_new(32, 64);
  dg_document_set_text(doc, DG_FIELD_MODEL, with, false);
  dg_document_set_text(doc, DG_FIELD_NEGATIVE, "blurry", false);
  dg_document_set_steps(doc, 2);
  dg_timeline t;
  dg_timeline_init(&t);
  t.frames = 4;
  dg_check_status(dg_timeline_add_stage(&t, 0, "a red car on a snowy street"), "stage 0");
  dg_check_status(dg_timeline_add_stage(&t, 3, "a blue car on a road in autumn"), "stage 3");
  t.attention_step = 1; // the attention picture at the second step (of 2, then 4)
  dg_check_status(dg_document_set_timeline(doc, &t, false), "set the timeline");
  int reports;
  dg_job_update last, last3;
  dg_video_result v, v3;
  dg_video_result_init(&v), dg_video_result_init(&v3);
  dg_check(run_image(doc, r) == DG_JOB_DONE && dg_runner_video_loads(r) == 0,
           "an image job on a model with a video UNet loads none (%d loads)", dg_runner_video_loads(r));
  if (run(doc, r, 0, -1, &reports, &last, &v) == DG_JOB_DONE) {
    dg_check(dg_runner_video_loads(r) == 1, "the first video job loaded the video UNet (%d loads)",
             dg_runner_video_loads(r));
    const dg_media *m = &v.frames;
    dg_check(m->frames == 4 && m->width == 64 && m->height == 32 && m->channels == 4,
             "4 RGBA frames of 64x32 (%d of %dx%dx%d)", m->frames, m->width, m->height, m->channels);
    dg_check(reports == 2 && last.total == 2 && last.step == 1 && last.preview_width == 32 && last.preview_height == 16,
             "a 32x16 preview with each of the 2 steps (%d reports)", reports);
    size_t fb = (size_t)m->width * m->height * 4;
    dg_check(m->data && memcmp(m->data, m->data + 3 * fb, fb) != 0, "the first and last frames differ");
    dg_check(v.timeline.n_stages == 2 && v.steps == 2 && v.negative && !strcmp(v.negative, "blurry"),
             "the video keeps its timeline and settings");
    // The temporal attention of the first temporal transformer at step 0: rows of probabilities.
    dg_check(v.attention && v.attention_frames == 4, "the temporal attention matrix comes with the video (%d frames)",
             v.attention_frames);
    for (int i = 0; v.attention && i < 4; i++) {
      float sum = 0;
      for (int j = 0; j < 4; j++)
        sum += v.attention[i * 4 + j];
      dg_check(sum > 0.99f && sum < 1.01f, "attention row %d sums to 1 (%g)", i, sum);
    }
    // It came with the progress of step 1 (the chosen step), the same matrix as the video's.
    dg_check(attention_seen_at == 1 && v.attention && !memcmp(attention_seen, v.attention, 16 * sizeof(float)),
             "the attention came with step 1's progress (first seen at step %d)", attention_seen_at);
  } else {
    dg_check(false, "the video job did not finish");
  }
  dg_video_result_clear(&v);
  dg_job_update_clear(&last);
  // The playhead at frame 3 from the start, and moved from frame 0 to 3 after the first of 4 steps: the
  // same video; the first previews differ (frame 3's and frame 0's), the last are the same (frame 3's).
  dg_job_update first3 = {0}, firstm = {0};
  dg_document_set_steps(doc, 4);
  int r3 = run_moving(doc, r, 3, -1, -1, &reports, &first3, &last3, &v3);
  int rm = run_moving(doc, r, 0, 3, -1, &reports, &firstm, &last, &v);
  size_t pb = (size_t)last.preview_width * last.preview_height * 4;
  dg_check(r3 == DG_JOB_DONE && rm == DG_JOB_DONE && v3.frames.data && v.frames.data &&
               !memcmp(v.frames.data, v3.frames.data, dg_media_frame_bytes(&v.frames) * 4),
           "the playhead does not change the video");
  dg_check(first3.preview && firstm.preview && first3.step == 0 && firstm.step == 0 &&
               memcmp(first3.preview, firstm.preview, pb) != 0,
           "the preview shows the playhead's frame (frame 3's differs from frame 0's)");
  dg_check(last.preview && last3.preview && last.step == 3 && last3.step == 3 &&
               !memcmp(last.preview, last3.preview, pb),
           "the preview follows the playhead while the job runs");
  dg_video_result_clear(&v), dg_video_result_clear(&v3);
  dg_job_update_clear(&last), dg_job_update_clear(&last3), dg_job_update_clear(&first3), dg_job_update_clear(&firstm);
  // Cancel after the first step's report.
  dg_document_set_steps(doc, 6);
  dg_timeline_copy(&t, dg_document_timeline(doc));
  t.attention_step = 0;
  dg_check_status(dg_document_set_timeline(doc, &t, false), "the attention picture at step 0");
  int state = run(doc, r, 0, 1, &reports, &last, &v);
  dg_check(state == DG_JOB_CANCELLED && reports < 6, "cancel stops the video job (state %d, %d reports)", state, reports);
  dg_check(attention_seen_at >= 0 && attention_seen_at <= 1,
           "  ... the attention of step 0 came while it ran, before the cancel (at step %d)", attention_seen_at);
  dg_job_update_clear(&last);
  dg_video_result_clear(&v);
  dg_document_set_steps(doc, 2);
  // The attention picture's layer and step beyond the model's or the run's: the job fails naming them.
  const struct {
    int layer, step;
    const char *needle;
  } bad_attention[] = {{40, 0, "layer 40: this video model has temporal layers 0.."}, {0, 2, "step 2: this run has steps 0..1"}};
  for (int i = 0; i < 2; i++) {
    dg_timeline_copy(&t, dg_document_timeline(doc));
    t.attention_layer = bad_attention[i].layer, t.attention_step = bad_attention[i].step;
    dg_check_status(dg_document_set_timeline(doc, &t, false), "set the attention picture");
    dg_status ast;
    dg_job *ajob = dg_job_start_video(doc, dg_runner_run, r, 0, 0, &ast);
    const char *why = ajob && dg_job_wait(ajob) == DG_JOB_FAILED ? dg_job_error(ajob) : NULL;
    dg_check(why && strstr(why, bad_attention[i].needle), "attention %d/%d refused: %s", bad_attention[i].layer,
             bad_attention[i].step, why ? why : "did not fail");
    dg_job_free(ajob);
  }
  dg_timeline_copy(&t, dg_document_timeline(doc));
  t.attention_layer = 0, t.attention_step = 0;
  dg_check_status(dg_document_set_timeline(doc, &t, false), "the attention picture back at layer 0, step 0");
  dg_check(run_image(doc, r) == DG_JOB_DONE && dg_runner_video_loads(r) == 1,
           "four video jobs and two image jobs later it was loaded once (%d loads)", dg_runner_video_loads(r));
  // A video UNet that cannot be read: image jobs run, each video job fails naming the file (tried again).
  char *broken = model_folder(false), *bad = g_build_filename(broken, "video_unet.safetensors", NULL);
  dg_check(g_file_set_contents(bad, "not a safetensors file", -1, NULL), "write %s", bad);
  dg_document_set_text(doc, DG_FIELD_MODEL, broken, false);
  dg_check(run_image(doc, r) == DG_JOB_DONE, "a model whose video UNet is broken generates images");
  for (int i = 0; i < 2; i++) {
    dg_status bst;
    dg_job *bjob = dg_job_start_video(doc, dg_runner_run, r, 0, 0, &bst);
    const char *why = bjob && dg_job_wait(bjob) == DG_JOB_FAILED ? dg_job_error(bjob) : NULL;
    dg_check(why && strstr(why, "video_unet.safetensors"), "video job %d on it fails naming the file (%s)", i + 1,
             why ? why : "did not fail");
    dg_job_free(bjob);
  }
  dg_check(run_image(doc, r) == DG_JOB_DONE && dg_runner_video_loads(r) == 1,
           "  ... and images still generate with the set (%d loads)", dg_runner_video_loads(r));
  g_free(bad);
  remove_folder(broken);
  // No video UNet: the job fails naming it.
  dg_document_set_text(doc, DG_FIELD_MODEL, without, false);
  dg_status st;
  dg_job *job = dg_job_start_video(doc, dg_runner_run, r, 0, 0, &st);
  if (job) {
    dg_check(dg_job_wait(job) == DG_JOB_FAILED && dg_job_error(job) && strstr(dg_job_error(job), "video UNet"),
             "no video UNet fails naming it (%s)", dg_job_error(job) ? dg_job_error(job) : "?");
    dg_job_free(job);
  }
  dg_timeline_clear(&t);
  dg_document_free(doc);
  dg_runner_free(r);
  remove_folder(with), remove_folder(without);
  return dg_check_finish("test_runner_video");
}
