#include "dg_job_runner.h"

#include <gmodule.h>

#include <stdlib.h>
#include <string.h>

#include "dg_assets.h"
#include "dg_heatmaps.h"
#include "dg_job.h"
#include "dg_model_choice.h"
#include "dg_runner.h"

G_DEFINE_QUARK(dg - job - runner - error - quark, dg_job_runner_error)

// ---- the job function ----------------------------------------------------------------------------

static dg_runner *runner;

// app/dg_runner generates with the document's model choice (dg_model_choice.h), the embedded
// tokenizer as the fallback and the world palette. Test hook: the UI tests load a stand-in job
// function (tests/ui/test_runner_module.c) from DIRIGENT_TEST_RUNNER, to drive progress and cancel
// timing without a model.
// The engine's threads run this much nicer than the UI thread (on lavapipe they are the CPU's).
#define DG_JOB_RUNNER_WORKER_NICE 5

void dg_job_runner_load_runner(void) {
  char *tok = dg_assets_path("tokenizer"), *pal = dg_assets_path("palettes/world.json");
  runner = dg_runner_new(tok, pal);
  if (runner) dg_job_set_default_fn(dg_runner_run, runner);
  dg_job_set_worker_nice(DG_JOB_RUNNER_WORKER_NICE);
  g_free(tok);
  g_free(pal);
  const char *path = g_getenv("DIRIGENT_TEST_RUNNER");
  if (!path || !*path) return;
  GModule *module = g_module_open(path, G_MODULE_BIND_LOCAL);
  gpointer fn = NULL;
  if (!module || !g_module_symbol(module, "dg_test_run", &fn)) {
    g_printerr("dirigent: DIRIGENT_TEST_RUNNER=%s: %s\n", path, g_module_error());
    return;
  }
  g_module_make_resident(module);
  dg_job_set_default_fn((dg_job_fn)fn, NULL);
}

int dg_job_runner_video_loads(void) { return runner ? dg_runner_video_loads(runner) : 0; }

void dg_job_runner_unload_runner(void) {
  dg_runner_free(runner);
  runner = NULL;
}

// Why app/dg_runner cannot run the document's model choice before it starts: no default model, or a
// chosen path that is gone. NULL when it can try (other job functions bring their own).
static char *no_model_reason(const char *choice, dg_job_fn fn) {
  if (!fn) return g_strdup("This build of Dirigent has no generation pipeline.");
  if (fn != dg_runner_run) return NULL;
  char *path = dg_model_choice_path(choice), *why = NULL;
  if (!path) {
    char *assets = dg_assets_path("models");
    why = g_strdup_printf("There is no default model: %s holds none yet (tools/train/train_defaults.sh trains it) "
                          "and DIRIGENT_MODEL is not set. Choose a model folder or checkpoint file under Model.",
                          assets);
    g_free(assets);
  } else if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
    why = g_strdup_printf("%s does not exist. Choose a model folder or checkpoint file under Model.", path);
  }
  g_free(path);
  return why;
}

// ---- the runner ----------------------------------------------------------------------------------

struct _DgJobRunner {
  GObject parent;
  dg_job *job;
  DgDocument *doc;  // the job's document
  GtkWidget *clock; // whose frame clock polls the job
  guint tick_id;
  bool abandoned;
  bool frame; // a live frame: its image is the preview, not a result
  bool video; // a video of the document's timeline: its frames become the document's video
  char *progress_text;
  double fraction;
  GdkPaintable *preview;
  // the newest marked words' maps and preview (RGB) of the job, and the heatmap of the word asked for
  float *maps;
  int map_count, map_h, map_w;
  char *map_labels;
  uint8_t *preview_rgb;
  int preview_w, preview_h;
  char *heat_item;
  GdkPaintable *heatmap;
  float *attention; // a video job's temporal attention, attention_frames square (malloc'd by dg_job)
  int attention_frames;
};

G_DEFINE_FINAL_TYPE(DgJobRunner, dg_job_runner, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_RUNNING,
  PROP_PROGRESS_TEXT,
  PROP_PROGRESS_FRACTION,
  PROP_PREVIEW,
  PROP_HEATMAP,
  PROP_ATTENTION_FRAMES,
  N_PROPS
};
static GParamSpec *props[N_PROPS];
enum { SIGNAL_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void set_progress(DgJobRunner *self, double fraction, const char *text) {
  if (fraction >= 0 && fraction != self->fraction) {
    self->fraction = fraction;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PROGRESS_FRACTION]);
  }
  if (g_strcmp0(text, self->progress_text)) {
    g_free(self->progress_text);
    self->progress_text = g_strdup(text);
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PROGRESS_TEXT]);
  }
}

static void set_preview(DgJobRunner *self, GdkPaintable *preview) {
  if (g_set_object(&self->preview, preview)) g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PREVIEW]);
}

// The map of a marks item among the labels (dg_marks_list's): "red:car" shows its attribute "red" (or
// "red#n", the occurrence it resolved to), "car#1" is "car". -1 if none.
static int map_of(const DgJobRunner *self, const char *item) {
  if (!self->map_labels || !item) return -1;
  const char *colon = strchr(item, ':');
  char *word = colon ? g_strndup(item, (gsize)(colon - item)) : g_strdup(item);
  if (g_str_has_suffix(word, "#1")) word[strlen(word) - 2] = 0;
  gchar **labels = g_strsplit(self->map_labels, "\n", -1);
  int found = -1;
  for (int i = 0; labels[i] && i < self->map_count && found < 0; i++) {
    size_t n = strlen(word);
    if (!strcmp(labels[i], word) || (colon && !strchr(word, '#') && !strncmp(labels[i], word, n) && labels[i][n] == '#'))
      found = i;
  }
  g_strfreev(labels);
  g_free(word);
  return found;
}

static void update_heatmap(DgJobRunner *self) {
  int i = map_of(self, self->heat_item);
  GdkTexture *tex = NULL;
  if (i >= 0 && self->preview_rgb) {
    int w = self->preview_w, h = self->preview_h;
    uint8_t *out = g_malloc((gsize)w * h * 3);
    dg_heatmaps_tile(self->preview_rgb, w, h, self->maps + (size_t)i * self->map_h * self->map_w, self->map_h,
                     self->map_w, 0.6f, out);
    GBytes *bytes = g_bytes_new_take(out, (gsize)w * h * 3);
    tex = gdk_memory_texture_new(w, h, GDK_MEMORY_R8G8B8, bytes, (gsize)w * 3);
    g_bytes_unref(bytes);
  }
  GdkPaintable *paintable = tex ? GDK_PAINTABLE(tex) : NULL;
  if (g_set_object(&self->heatmap, paintable))
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_HEATMAP]);
  if (tex) g_object_unref(tex);
}

void dg_job_runner_show_heatmap(DgJobRunner *self, const char *item) {
  g_free(self->heat_item);
  self->heat_item = g_strdup(item);
  update_heatmap(self);
}

// The image the heatmaps are drawn over: RGBA (w x h) kept as RGB.
static void keep_heat_image(DgJobRunner *self, const uint8_t *rgba, int w, int h) {
  self->preview_rgb = g_realloc(self->preview_rgb, (gsize)w * h * 3);
  for (int i = 0; i < w * h; i++)
    memcpy(self->preview_rgb + 3 * i, rgba + 4 * i, 3);
  self->preview_w = w, self->preview_h = h;
}

// Takes the attention out of the update (or clears it: u NULL).
static void keep_attention(DgJobRunner *self, dg_job_update *u) {
  if (u && !u->attention) return;
  free(self->attention);
  self->attention = u ? u->attention : NULL, self->attention_frames = u ? u->attention_frames : 0;
  if (u) u->attention = NULL; // ours now
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_ATTENTION_FRAMES]);
}

const float *dg_job_runner_get_attention(DgJobRunner *self, int *frames) {
  *frames = self->attention_frames;
  return self->attention;
}

// Keeps the update's maps (taken from it) and preview for the heatmaps.
static void keep_maps(DgJobRunner *self, dg_job_update *u) {
  if (u->maps) {
    free(self->maps), free(self->map_labels);
    self->maps = u->maps, self->map_labels = u->map_labels; // malloc'd by dg_job: free()d
    self->map_count = u->map_count, self->map_h = u->map_h, self->map_w = u->map_w;
    u->maps = NULL, u->map_labels = NULL; // ours now
  }
  if (u->preview) keep_heat_image(self, u->preview, u->preview_width, u->preview_height);
  update_heatmap(self);
}

// The heatmaps of the last step go on over the decoded result (full size) once it is there.
static void keep_result_for_heatmaps(DgJobRunner *self, const dg_result *r) {
  keep_heat_image(self, r->rgba, r->width, r->height);
  update_heatmap(self);
}

static void show_update(DgJobRunner *self, const dg_job_update *u) {
  double left = u->step > 0 ? u->elapsed_s / u->step * (u->total - u->step) : 0;
  char *text = g_strdup_printf("Step %d / %d · %.0f s left", u->step, u->total, left);
  set_progress(self, u->total > 0 ? (double)u->step / u->total : 0, text);
  g_free(text);
  if (!u->preview) return;
  GBytes *bytes = g_bytes_new(u->preview, (gsize)u->preview_width * u->preview_height * 4);
  GdkTexture *tex = gdk_memory_texture_new(u->preview_width, u->preview_height, GDK_MEMORY_R8G8B8A8, bytes,
                                           (gsize)u->preview_width * 4);
  g_bytes_unref(bytes);
  set_preview(self, GDK_PAINTABLE(tex));
  g_object_unref(tex);
}

// Frees the finished job and forgets its document; running becomes false.
static void clear_job(DgJobRunner *self) {
  if (self->tick_id) gtk_widget_remove_tick_callback(self->clock, self->tick_id);
  self->tick_id = 0;
  g_clear_object(&self->clock);
  dg_job_free(self->job);
  self->job = NULL;
  g_clear_object(&self->doc);
  self->abandoned = false;
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_RUNNING]);
}

static gboolean tick(GtkWidget *w, GdkFrameClock *clock, gpointer data) {
  (void)w, (void)clock;
  DgJobRunner *self = data;
  dg_job_update u;
  if (dg_job_poll(self->job, &u)) {
    show_update(self, &u);
    keep_maps(self, &u);
    keep_attention(self, &u);
    dg_job_update_clear(&u);
  }
  dg_job_state state = dg_job_state_get(self->job);
  if (state == DG_JOB_RUNNING) return G_SOURCE_CONTINUE;
  dg_job_wait(self->job);
  dg_result r;
  DgJobOutcome outcome;
  char *message = NULL;
  // A job asked to stop that finished anyway (the cancel came after its last step) is as cancelled: a
  // stale live frame or render never reaches the preview or the document.
  if (state == DG_JOB_DONE && !self->abandoned && dg_job_cancelled(self->job)) state = DG_JOB_CANCELLED;
  if (state == DG_JOB_DONE && self->abandoned) {
    outcome = DG_JOB_OUTCOME_DISCARDED;
    set_progress(self, -1, "Discarded (another document was opened)");
  } else if (state == DG_JOB_DONE && self->frame && dg_job_take_result(self->job, &r)) {
    outcome = DG_JOB_OUTCOME_FRAME;
    keep_result_for_heatmaps(self, &r);
    GBytes *bytes = g_bytes_new(r.rgba, (gsize)r.width * r.height * 4);
    GdkTexture *tex = gdk_memory_texture_new(r.width, r.height, GDK_MEMORY_R8G8B8A8, bytes, (gsize)r.width * 4);
    g_bytes_unref(bytes);
    set_preview(self, GDK_PAINTABLE(tex));
    g_object_unref(tex);
    dg_result_clear(&r);
    set_progress(self, 1, "Live");
  } else if (state == DG_JOB_DONE && self->video) {
    dg_video_result v;
    if (dg_job_take_video(self->job, &v)) {
      outcome = DG_JOB_OUTCOME_DONE;
      message = dg_job_note(self->job);
      dg_document_add_video(dg_document_object_get_model(self->doc), &v);
      set_progress(self, 1, "Done");
    } else {
      outcome = DG_JOB_OUTCOME_FAILED;
      message = g_strdup("the video's frames could not be kept (out of memory)");
      set_progress(self, -1, "Failed");
    }
    dg_video_result_clear(&v);
  } else if (state == DG_JOB_DONE && dg_job_take_result(self->job, &r)) {
    outcome = DG_JOB_OUTCOME_DONE;
    message = dg_job_note(self->job);
    keep_result_for_heatmaps(self, &r);
    dg_document_add_result(dg_document_object_get_model(self->doc), &r);
    set_progress(self, 1, "Done");
  } else if (state == DG_JOB_CANCELLED) {
    outcome = DG_JOB_OUTCOME_CANCELLED;
    set_progress(self, 0, "Cancelled");
    set_preview(self, NULL);
  } else {
    outcome = DG_JOB_OUTCOME_FAILED;
    message = g_strdup(dg_job_error(self->job));
    set_progress(self, -1, "Failed");
  }
  self->tick_id = 0; // returning G_SOURCE_REMOVE removes it
  clear_job(self);
  g_signal_emit(self, signals[SIGNAL_FINISHED], 0, outcome, message);
  g_free(message); // g_free and free are the same allocator since GLib 2.46
  return G_SOURCE_REMOVE;
}

static gboolean start(DgJobRunner *self, DgDocument *doc, GtkWidget *clock, bool seeded, uint64_t seed,
                      const dg_job_sampling *sampling, int playhead, GError **error) {
  if (self->job) return FALSE;
  dg_document *m = dg_document_object_get_model(doc);
  void *user = NULL;
  dg_job_fn fn = dg_job_default_fn(&user);
  char *why = no_model_reason(dg_document_model(m), fn);
  if (why) {
    set_progress(self, -1, "No model loaded");
    g_set_error_literal(error, DG_JOB_RUNNER_ERROR, DG_JOB_RUNNER_ERROR_NO_MODEL, why);
    g_free(why);
    return FALSE;
  }
  // The canvas size against the model's rule (and the model's files), before anything is loaded.
  char *path = fn == dg_runner_run ? dg_model_choice_path(dg_document_model(m)) : NULL;
  dg_status st = path ? dg_model_choice_check_size(path, dg_document_width(m), dg_document_height(m)) : DG_OK;
  g_free(path);
  if (st != DG_OK) {
    set_progress(self, -1, "Not started");
    g_set_error_literal(error, DG_JOB_RUNNER_ERROR, DG_JOB_RUNNER_ERROR_SETTINGS, dg_last_error());
    return FALSE;
  }
  uint64_t random_seed = seeded ? seed : ((uint64_t)g_random_int() << 32 | g_random_int()) >> 11;
  self->job = playhead >= 0 ? dg_job_start_video(m, fn, user, random_seed, playhead, &st)
                            : dg_job_start_sampling(m, fn, user, random_seed, sampling, &st);
  if (!self->job) {
    g_set_error_literal(error, DG_JOB_RUNNER_ERROR, DG_JOB_RUNNER_ERROR_FAILED, dg_last_error());
    return FALSE;
  }
  self->doc = g_object_ref(doc);
  self->clock = g_object_ref(clock);
  self->frame = sampling != NULL;
  self->video = playhead >= 0;
  free(self->maps), free(self->map_labels); // the last job's maps are not this one's
  self->maps = NULL, self->map_labels = NULL, self->map_count = 0;
  update_heatmap(self);
  if (self->attention) keep_attention(self, NULL);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_RUNNING]);
  set_progress(self, 0, "Starting…");
  self->tick_id = gtk_widget_add_tick_callback(clock, tick, self, NULL);
  return TRUE;
}

gboolean dg_job_runner_start(DgJobRunner *self, DgDocument *doc, GtkWidget *clock, GError **error) {
  return start(self, doc, clock, false, 0, NULL, -1, error);
}

gboolean dg_job_runner_start_video(DgJobRunner *self, DgDocument *doc, GtkWidget *clock, int playhead, GError **error) {
  return start(self, doc, clock, false, 0, NULL, playhead < 0 ? 0 : playhead, error);
}

void dg_job_runner_set_playhead(DgJobRunner *self, int frame) {
  if (self->job && self->video) dg_job_set_preview_frame(self->job, frame);
}

gboolean dg_job_runner_get_video(DgJobRunner *self) { return self->job && self->video; }

gboolean dg_job_runner_start_seeded(DgJobRunner *self, DgDocument *doc, GtkWidget *clock, uint64_t seed,
                                    GError **error) {
  return start(self, doc, clock, true, seed, NULL, -1, error);
}

gboolean dg_job_runner_start_frame(DgJobRunner *self, DgDocument *doc, GtkWidget *clock, uint64_t seed,
                                   const dg_job_sampling *sampling, GError **error) {
  return start(self, doc, clock, true, seed, sampling, -1, error);
}

void dg_job_runner_cancel(DgJobRunner *self) {
  if (!self->job) return;
  dg_job_cancel(self->job);
  set_progress(self, -1, "Cancelling…");
}

void dg_job_runner_abandon(DgJobRunner *self) {
  if (!self->job) return;
  self->abandoned = true;
  dg_job_runner_cancel(self);
}

void dg_job_runner_stop(DgJobRunner *self) {
  if (self->job) clear_job(self); // dg_job_free cancels and waits for the worker
}

gboolean dg_job_runner_get_running(DgJobRunner *self) { return self->job != NULL; }
const char *dg_job_runner_get_progress_text(DgJobRunner *self) { return self->progress_text; }

DgJobRunner *dg_job_runner_new(void) { return g_object_new(DG_TYPE_JOB_RUNNER, NULL); }

static void dg_job_runner_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  DgJobRunner *self = DG_JOB_RUNNER(object);
  switch (id) {
  case PROP_RUNNING: g_value_set_boolean(value, self->job != NULL); break;
  case PROP_PROGRESS_TEXT: g_value_set_string(value, self->progress_text); break;
  case PROP_PROGRESS_FRACTION: g_value_set_double(value, self->fraction); break;
  case PROP_PREVIEW: g_value_set_object(value, self->preview); break;
  case PROP_HEATMAP: g_value_set_object(value, self->heatmap); break;
  case PROP_ATTENTION_FRAMES: g_value_set_int(value, self->attention_frames); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void dg_job_runner_dispose(GObject *object) {
  DgJobRunner *self = DG_JOB_RUNNER(object);
  dg_job_runner_stop(self);
  g_clear_object(&self->preview);
  g_clear_object(&self->heatmap);
  g_clear_pointer(&self->progress_text, g_free);
  free(self->maps), free(self->map_labels);
  self->maps = NULL, self->map_labels = NULL;
  g_clear_pointer(&self->preview_rgb, g_free);
  g_clear_pointer(&self->heat_item, g_free);
  free(self->attention);
  self->attention = NULL, self->attention_frames = 0;
  G_OBJECT_CLASS(dg_job_runner_parent_class)->dispose(object);
}

static void dg_job_runner_class_init(DgJobRunnerClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  oc->get_property = dg_job_runner_get_property;
  oc->dispose = dg_job_runner_dispose;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  props[PROP_RUNNING] = g_param_spec_boolean("running", NULL, NULL, FALSE, ro);
  props[PROP_PROGRESS_TEXT] = g_param_spec_string("progress-text", NULL, NULL, "Idle", ro);
  props[PROP_PROGRESS_FRACTION] = g_param_spec_double("progress-fraction", NULL, NULL, 0, 1, 0, ro);
  props[PROP_PREVIEW] = g_param_spec_object("preview", NULL, NULL, GDK_TYPE_PAINTABLE, ro);
  // the heatmap of the marked word asked for (dg_job_runner_show_heatmap) over the newest preview
  props[PROP_HEATMAP] = g_param_spec_object("heatmap", NULL, NULL, GDK_TYPE_PAINTABLE, ro);
  // a video job's temporal attention matrix's side, 0 for none (dg_job_runner_get_attention)
  props[PROP_ATTENTION_FRAMES] = g_param_spec_int("attention-frames", NULL, NULL, 0, G_MAXINT, 0, ro);
  g_object_class_install_properties(oc, N_PROPS, props);
  // (DgJobOutcome outcome, const char *message): message says why for DG_JOB_OUTCOME_FAILED; for
  // DG_JOB_OUTCOME_DONE the job's note (dg_job_note: a prompt the text encoder cut) or NULL; else NULL.
  signals[SIGNAL_FINISHED] = g_signal_new("finished", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_STRING);
}

static void dg_job_runner_init(DgJobRunner *self) { self->progress_text = g_strdup("Idle"); }
