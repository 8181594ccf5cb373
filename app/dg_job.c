#include "dg_job.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct dg_job {
  dg_job_params params;
  uint8_t *layout;
  char *prompt, *negative, *model, *palette, *marks;
  dg_timeline timeline; // a video job's copy
  dg_job_fn fn;
  void *user;

  pthread_t thread;
  bool joined;
  atomic_bool cancel;
  atomic_int state;
  atomic_int preview_frame;
  struct timespec started;

  pthread_mutex_t lock; // guards the mailbox, the result and the error
  bool mailbox_full;
  dg_job_update mailbox;

  dg_media result;
  float *attention; // a video job's temporal attention, frames x frames
  int attention_frames;
  char *error;
  char *note; // the job function's note for the person (dg_job_set_note)
};

static dg_job_fn default_fn;
static void *default_user;

void dg_job_set_default_fn(dg_job_fn fn, void *user) {
  default_fn = fn;
  default_user = user;
}
dg_job_fn dg_job_default_fn(void **user) {
  if (user) *user = default_user;
  return default_fn;
}

static atomic_int worker_nice;
void dg_job_set_worker_nice(int increment) { atomic_store(&worker_nice, increment); }

void dg_job_lower_this_thread(void) {
  int inc = atomic_load(&worker_nice);
  if (inc > 0) { // this thread only (Linux priorities are per thread); threads it starts inherit it
    id_t tid = (id_t)syscall(SYS_gettid);
    int now = getpriority(PRIO_PROCESS, tid);
    setpriority(PRIO_PROCESS, tid, now + inc > 19 ? 19 : now + inc);
  }
}

static double seconds_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

static void *worker(void *arg) {
  dg_job *job = arg;
  dg_media media = {0};
  dg_job_lower_this_thread();
  dg_clear_error();
  dg_status s = job->fn(job, &job->params, job->user, &media);
  pthread_mutex_lock(&job->lock);
  dg_job_state final;
  bool got = media.data && media.frames > 0 && media.width > 0 && media.height > 0 && media.channels == 4;
  if (s == DG_OK && got && !atomic_load(&job->cancel)) {
    job->result = media;
    final = DG_JOB_DONE;
  } else {
    dg_media_clear(&media);
    if (s == DG_ERR_CANCELLED || atomic_load(&job->cancel)) {
      final = DG_JOB_CANCELLED;
    } else {
      final = DG_JOB_FAILED;
      const char *msg = dg_last_error();
      job->error = strdup(s == DG_OK ? "the job returned no image" : (*msg ? msg : dg_status_name(s)));
    }
  }
  pthread_mutex_unlock(&job->lock);
  atomic_store(&job->state, final);
  return NULL;
}

dg_job *dg_job_start(const dg_document *doc, dg_job_fn fn, void *user, uint64_t random_seed, dg_status *status) {
  return dg_job_start_sampling(doc, fn, user, random_seed, NULL, status);
}

static dg_job *job_start(const dg_document *doc, dg_job_fn fn, void *user, uint64_t random_seed,
                         const dg_job_sampling *sampling, bool video, int playhead, dg_status *status);

dg_job *dg_job_start_sampling(const dg_document *doc, dg_job_fn fn, void *user, uint64_t random_seed,
                              const dg_job_sampling *sampling, dg_status *status) {
  return job_start(doc, fn, user, random_seed, sampling, false, 0, status);
}

dg_job *dg_job_start_video(const dg_document *doc, dg_job_fn fn, void *user, uint64_t random_seed, int playhead,
                           dg_status *status) {
  if (dg_document_timeline(doc)->n_stages < 1) {
    *status = dg_fail(DG_ERR_ARG, "video: the timeline has no prompt stage; add one first");
    return NULL;
  }
  return job_start(doc, fn, user, random_seed, NULL, true, playhead, status);
}

static dg_job *job_start(const dg_document *doc, dg_job_fn fn, void *user, uint64_t random_seed,
                         const dg_job_sampling *sampling, bool video, int playhead, dg_status *status) {
  dg_job_sampling js = sampling ? *sampling : (dg_job_sampling){.guidance = -1};
  if (!fn) {
    *status = dg_fail(DG_ERR_UNSUPPORTED, "no model loaded: this build has no generation pipeline yet");
    return NULL;
  }
  dg_job *job = calloc(1, sizeof *job);
  dg_timeline_init(&job->timeline);
  if (video && (*status = dg_timeline_copy(&job->timeline, dg_document_timeline(doc))) != DG_OK) {
    free(job);
    return NULL;
  }
  size_t n = (size_t)dg_document_width(doc) * dg_document_height(doc);
  job->layout = malloc(n);
  memcpy(job->layout, dg_document_layout(doc), n);
  job->prompt = strdup(dg_document_prompt(doc));
  job->negative = strdup(dg_document_negative(doc));
  job->model = strdup(dg_document_model(doc));
  job->palette = strdup(dg_document_palette(doc));
  job->marks = strdup(dg_document_marks(doc));
  dg_guidance_kind attn_guidance = DG_GUIDANCE_NONE; // the document holds only valid names
  dg_guidance_parse(dg_document_attn_guidance(doc), &attn_guidance);
  job->params = (dg_job_params){
      .width = dg_document_width(doc),
      .height = dg_document_height(doc),
      .layout = job->layout,
      .prompt = job->prompt,
      .negative = job->negative,
      .model = job->model,
      .palette = job->palette,
      .marks = job->marks,
      .attn_guidance = attn_guidance,
      .seed = dg_document_seed_random(doc) ? random_seed : dg_document_seed(doc),
      .steps = js.steps > 0 ? js.steps : dg_document_steps(doc),
      .guidance = js.guidance >= 0 ? js.guidance : dg_document_guidance(doc),
      // A live frame's scale is its factor (DG_SETTINGS_LIVE_CONTROL_SCALE) times the person's layout strength.
      .control_scale = (js.control_scale > 0 ? js.control_scale : 1) * dg_document_control_scale(doc),
      .fast_decode = js.fast_decode,
      .timeline = video ? &job->timeline : NULL,
      .preview_frame = playhead,
  };
  job->fn = fn;
  job->user = user;
  atomic_init(&job->cancel, false);
  atomic_init(&job->state, DG_JOB_RUNNING);
  atomic_init(&job->preview_frame, playhead);
  pthread_mutex_init(&job->lock, NULL);
  clock_gettime(CLOCK_MONOTONIC, &job->started);
  if (pthread_create(&job->thread, NULL, worker, job) != 0) {
    *status = dg_fail(DG_ERR_OOM, "job: cannot start the worker thread");
    job->joined = true;
    dg_job_free(job);
    return NULL;
  }
  *status = DG_OK;
  return job;
}

void dg_job_cancel(dg_job *job) { atomic_store(&job->cancel, true); }
bool dg_job_cancelled(dg_job *job) { return atomic_load(&job->cancel); }
const atomic_bool *dg_job_cancel_flag(dg_job *job) { return &job->cancel; }
dg_job_state dg_job_state_get(dg_job *job) { return (dg_job_state)atomic_load(&job->state); }
const dg_job_params *dg_job_params_get(const dg_job *job) { return &job->params; }
void dg_job_set_preview_frame(dg_job *job, int frame) { atomic_store(&job->preview_frame, frame); }
const atomic_int *dg_job_preview_frame(dg_job *job) { return &job->preview_frame; }

void dg_job_set_attention(dg_job *job, const float *matrix, int frames) {
  size_t n = frames > 0 ? (size_t)frames * frames : 0;
  float *copy = n ? malloc(n * sizeof *copy) : NULL;
  float *posted = n ? malloc(n * sizeof *posted) : NULL;
  if (!copy || !posted) { // the video comes without its attention picture
    free(copy), free(posted);
    return;
  }
  memcpy(copy, matrix, n * sizeof *copy);
  memcpy(posted, matrix, n * sizeof *posted);
  pthread_mutex_lock(&job->lock);
  free(job->attention);
  job->attention = copy, job->attention_frames = frames;
  free(job->mailbox.attention);
  job->mailbox.attention = posted, job->mailbox.attention_frames = frames;
  pthread_mutex_unlock(&job->lock);
}

void dg_job_report(dg_job *job, int step, int total, const uint8_t *preview, int width, int height) {
  double elapsed = seconds_since(&job->started);
  size_t size = preview && width > 0 && height > 0 ? (size_t)width * height * 4 : 0;
  pthread_mutex_lock(&job->lock);
  dg_job_update *m = &job->mailbox;
  // Reuse an unread preview buffer of the same size; copying under the lock is one memcpy.
  uint8_t *buf = NULL;
  if (size) {
    if (m->preview && (size_t)m->preview_width * m->preview_height * 4 == size) {
      buf = m->preview;
      m->preview = NULL;
    } else {
      buf = malloc(size);
    }
    memcpy(buf, preview, size);
  }
  free(m->preview);
  dg_job_update maps = *m; // the maps and the attention posted for this step stay
  *m = (dg_job_update){.step = step,
                       .total = total,
                       .preview_width = size ? width : 0,
                       .preview_height = size ? height : 0,
                       .preview = buf,
                       .elapsed_s = elapsed,
                       .maps = maps.maps,
                       .map_count = maps.map_count,
                       .map_h = maps.map_h,
                       .map_w = maps.map_w,
                       .map_labels = maps.map_labels,
                       .attention = maps.attention,
                       .attention_frames = maps.attention_frames};
  job->mailbox_full = true;
  pthread_mutex_unlock(&job->lock);
}

void dg_job_report_maps(dg_job *job, const float *maps, int n, int mh, int mw, const char *labels) {
  size_t count = n > 0 && mh > 0 && mw > 0 ? (size_t)n * mh * mw : 0;
  float *copy = count ? malloc(count * sizeof *copy) : NULL;
  if (!copy) return;
  memcpy(copy, maps, count * sizeof *copy);
  char *names = strdup(labels ? labels : "");
  pthread_mutex_lock(&job->lock);
  dg_job_update *m = &job->mailbox;
  free(m->maps), free(m->map_labels);
  m->maps = copy, m->map_count = n, m->map_h = mh, m->map_w = mw, m->map_labels = names;
  pthread_mutex_unlock(&job->lock);
}

bool dg_job_poll(dg_job *job, dg_job_update *out) {
  pthread_mutex_lock(&job->lock);
  bool full = job->mailbox_full;
  if (full) {
    *out = job->mailbox;
    memset(&job->mailbox, 0, sizeof job->mailbox);
    job->mailbox_full = false;
  }
  pthread_mutex_unlock(&job->lock);
  return full;
}

void dg_job_update_clear(dg_job_update *u) {
  free(u->preview);
  free(u->maps), free(u->map_labels);
  free(u->attention);
  memset(u, 0, sizeof *u);
}

dg_job_state dg_job_wait(dg_job *job) {
  if (!job->joined) {
    pthread_join(job->thread, NULL);
    job->joined = true;
  }
  return dg_job_state_get(job);
}

bool dg_job_take_media(dg_job *job, dg_media *out) {
  if (dg_job_state_get(job) != DG_JOB_DONE) return false;
  pthread_mutex_lock(&job->lock);
  bool ok = job->result.data != NULL;
  if (ok) {
    *out = job->result;
    memset(&job->result, 0, sizeof job->result);
  }
  pthread_mutex_unlock(&job->lock);
  return ok;
}

bool dg_job_take_result(dg_job *job, dg_result *out) {
  dg_media m;
  if (!dg_job_take_media(job, &m)) return false;
  if (m.frames > 1) { // the document keeps images: the first frame
    uint8_t *first = malloc(dg_media_frame_bytes(&m));
    if (!first) {
      dg_media_clear(&m);
      return false;
    }
    memcpy(first, m.data, dg_media_frame_bytes(&m));
    free(m.data);
    m.data = first;
  }
  memset(out, 0, sizeof *out);
  out->width = m.width;
  out->height = m.height;
  out->rgba = m.data;
  out->seed = job->params.seed;
  out->steps = job->params.steps;
  out->guidance = job->params.guidance;
  out->control_scale = job->params.control_scale > 0 ? job->params.control_scale : 1;
  out->prompt = strdup(job->prompt);
  out->negative = strdup(job->negative);
  out->model = strdup(job->model);
  out->marks = strdup(job->marks);
  out->attn_guidance = strdup(dg_guidance_name(job->params.attn_guidance));
  return true;
}

bool dg_job_take_video(dg_job *job, dg_video_result *out) {
  dg_video_result_init(out);
  if (!job->params.timeline || dg_job_state_get(job) != DG_JOB_DONE) return false;
  if (dg_timeline_copy(&out->timeline, &job->timeline) != DG_OK || !dg_job_take_media(job, &out->frames)) {
    dg_video_result_clear(out);
    return false;
  }
  out->seed = job->params.seed;
  out->steps = job->params.steps;
  out->guidance = job->params.guidance;
  out->control_scale = job->params.control_scale > 0 ? job->params.control_scale : 1;
  out->negative = strdup(job->negative);
  out->model = strdup(job->model);
  pthread_mutex_lock(&job->lock);
  if (job->attention_frames == out->frames.frames) {
    out->attention = job->attention, out->attention_frames = job->attention_frames;
    job->attention = NULL, job->attention_frames = 0;
  }
  pthread_mutex_unlock(&job->lock);
  return true;
}

const char *dg_job_error(dg_job *job) { return job->error ? job->error : ""; }

void dg_job_set_note(dg_job *job, const char *note) {
  char *copy = note ? strdup(note) : NULL;
  pthread_mutex_lock(&job->lock);
  free(job->note);
  job->note = copy;
  pthread_mutex_unlock(&job->lock);
}

char *dg_job_note(dg_job *job) {
  pthread_mutex_lock(&job->lock);
  char *copy = job->note ? strdup(job->note) : NULL;
  pthread_mutex_unlock(&job->lock);
  return copy;
}

void dg_job_free(dg_job *job) {
  if (!job) return;
  dg_job_cancel(job);
  dg_job_wait(job);
  pthread_mutex_destroy(&job->lock);
  free(job->mailbox.preview);
  free(job->mailbox.maps), free(job->mailbox.map_labels);
  free(job->mailbox.attention);
  dg_media_clear(&job->result);
  free(job->error);
  free(job->note);
  free(job->attention);
  free(job->layout);
  free(job->prompt);
  free(job->negative);
  free(job->model);
  free(job->palette);
  free(job->marks);
  dg_timeline_clear(&job->timeline);
  free(job);
}
