#include "dg_style_worker.h"

#include <glib.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "dg_job.h"

typedef struct request {
  uint64_t serial;
  bool preview;
  dg_style_image *content, *exemplar;
  dg_stylize_params params;
} request;

// What outlives the worker for deliveries already queued on the main context: `gone` stops them.
typedef struct delivery_link {
  atomic_int refs;
  atomic_bool gone;
  dg_style_done_fn fn;
  void *user;
} delivery_link;

struct dg_style_worker {
  GMutex lock;
  GCond wake;
  GQueue queue; // request *
  bool stop;
  int running;
  uint64_t next_serial;
  char *encoder, *generator;
  delivery_link *link;
  GMainContext *context; // the creator's: results are dispatched there, never on the worker
  GThread *thread;
};

typedef struct delivery {
  delivery_link *link;
  uint64_t serial;
  bool preview;
  dg_status status;
  char *error;
  dg_media rgb;
  dg_style_spectra spectra;
  double seconds;
} delivery;

static void link_unref(delivery_link *l) {
  if (atomic_fetch_sub(&l->refs, 1) == 1) free(l);
}

static void request_free(request *r) {
  dg_style_image_unref(r->content);
  dg_style_image_unref(r->exemplar);
  free(r);
}

static gboolean deliver(gpointer data) {
  delivery *d = data;
  if (!atomic_load(&d->link->gone))
    d->link->fn(d->link->user, d->serial, d->preview, d->status, d->error, &d->rgb, d->preview ? &d->spectra : NULL,
                d->seconds);
  return G_SOURCE_REMOVE;
}
static void delivery_free(gpointer data) {
  delivery *d = data;
  dg_media_clear(&d->rgb); // a callee that took the media or the spectra cleared them already
  dg_spectrum_clear(&d->spectra.content), dg_spectrum_clear(&d->spectra.exemplar);
  dg_spectrum_clear(&d->spectra.result);
  g_free(d->error);
  link_unref(d->link);
  g_free(d);
}

// The stylized image, and for a preview the three spectra.
static dg_status run(dg_stylize *task, const request *r, dg_media *out, dg_style_spectra *spectra) {
  dg_media c = {0}, s = {0};
  dg_status st = dg_style_image_media(r->content, &c);
  if (st == DG_OK) st = dg_style_image_media(r->exemplar, &s);
  if (st == DG_OK) st = dg_stylize_run(task, &c, &s, &r->params, out);
  if (st == DG_OK && r->preview) st = dg_stylize_spectrum(task, &c, true, &spectra->content);
  if (st == DG_OK && r->preview) st = dg_stylize_spectrum(task, &s, true, &spectra->exemplar);
  if (st == DG_OK && r->preview) st = dg_stylize_spectrum(task, out, true, &spectra->result);
  dg_media_clear(&c), dg_media_clear(&s);
  return st;
}

static gpointer worker_main(gpointer data) {
  dg_style_worker *w = data;
  dg_device *dev = NULL;
  dg_stylize *task = NULL;
  dg_status opened = DG_OK;
  char *open_error = NULL;
  dg_job_lower_this_thread(); // behind the UI thread, as generation's workers (and lavapipe's threads, inherited)
  for (;;) {
    g_mutex_lock(&w->lock);
    while (!w->stop && g_queue_is_empty(&w->queue))
      g_cond_wait(&w->wake, &w->lock);
    if (w->stop) {
      g_mutex_unlock(&w->lock);
      break;
    }
    request *r = g_queue_pop_head(&w->queue);
    w->running++;
    g_mutex_unlock(&w->lock);
    if (!dev && opened == DG_OK) { // the device on first use, so an editor that never stylizes opens none
      dg_device_options o = {0};
      opened = dg_device_open(&o, &dev);
      if (opened == DG_OK) opened = dg_stylize_create(dev, &task);
      if (opened != DG_OK) open_error = g_strdup(dg_last_error());
    }
    if (!r->exemplar) { // a warm-up
      dg_media c = {0};
      dg_spectrum sp = {0};
      if (opened == DG_OK && dg_style_image_media(r->content, &c) == DG_OK)
        (void)dg_stylize_spectrum(task, &c, true, &sp);
      dg_spectrum_clear(&sp), dg_media_clear(&c);
      request_free(r);
      g_mutex_lock(&w->lock);
      w->running--;
      g_mutex_unlock(&w->lock);
      continue;
    }
    delivery *d = g_new0(delivery, 1);
    d->serial = r->serial, d->preview = r->preview;
    gint64 t0 = g_get_monotonic_time();
    d->status = opened != DG_OK ? opened : run(task, r, &d->rgb, &d->spectra);
    d->seconds = (double)(g_get_monotonic_time() - t0) * 1e-6;
    if (d->status != DG_OK) d->error = g_strdup(opened != DG_OK ? open_error : dg_last_error());
    d->link = w->link;
    atomic_fetch_add(&w->link->refs, 1);
    request_free(r);
    // An idle source, not g_main_context_invoke: that would call `deliver` right here on the worker whenever it
    // could acquire a context nobody is iterating at the moment.
    GSource *src = g_idle_source_new();
    g_source_set_priority(src, G_PRIORITY_DEFAULT);
    g_source_set_callback(src, deliver, d, delivery_free);
    g_source_attach(src, w->context);
    g_source_unref(src);
    g_mutex_lock(&w->lock);
    w->running--;
    g_mutex_unlock(&w->lock);
  }
  dg_stylize_destroy(task);
  dg_device_close(dev);
  g_free(open_error);
  return NULL;
}

dg_style_worker *dg_style_worker_new(const char *encoder, const char *generator, dg_style_done_fn fn, void *user) {
  dg_style_worker *w = g_new0(dg_style_worker, 1);
  g_mutex_init(&w->lock);
  g_cond_init(&w->wake);
  g_queue_init(&w->queue);
  w->encoder = g_strdup(encoder), w->generator = g_strdup(generator);
  w->link = calloc(1, sizeof *w->link);
  atomic_init(&w->link->refs, 1);
  w->link->fn = fn, w->link->user = user;
  w->context = g_main_context_ref_thread_default();
  w->thread = g_thread_new("dg-style", worker_main, w);
  return w;
}

void dg_style_worker_free(dg_style_worker *w) {
  if (!w) return;
  atomic_store(&w->link->gone, true);
  g_mutex_lock(&w->lock);
  w->stop = true;
  g_cond_signal(&w->wake);
  g_mutex_unlock(&w->lock);
  g_thread_join(w->thread);
  g_queue_clear_full(&w->queue, (GDestroyNotify)request_free);
  link_unref(w->link);
  g_main_context_unref(w->context);
  g_free(w->encoder), g_free(w->generator);
  g_mutex_clear(&w->lock);
  g_cond_clear(&w->wake);
  g_free(w);
}

uint64_t dg_style_worker_submit(dg_style_worker *w, bool preview, dg_style_image *content, dg_style_image *exemplar,
                                dg_stylize_method method, double strength) {
  request *r = calloc(1, sizeof *r);
  r->preview = preview;
  r->content = dg_style_image_ref(content), r->exemplar = dg_style_image_ref(exemplar);
  r->params = (dg_stylize_params){method, strength, DG_STYLIZE_DEFAULT_BETA, w->encoder, w->generator};
  g_mutex_lock(&w->lock);
  if (preview) // a newer preview makes the queued ones stale
    for (GList *l = w->queue.head; l;) {
      GList *next = l->next;
      request *q = l->data;
      if (q->preview) {
        request_free(q);
        g_queue_delete_link(&w->queue, l);
      }
      l = next;
    }
  uint64_t serial = r->serial = ++w->next_serial;
  g_queue_push_tail(&w->queue, r);
  g_cond_signal(&w->wake);
  g_mutex_unlock(&w->lock);
  return serial; // not r->serial: the worker may have run and freed r already
}

int dg_style_worker_pending(dg_style_worker *w) {
  g_mutex_lock(&w->lock);
  int n = (int)g_queue_get_length(&w->queue) + w->running;
  g_mutex_unlock(&w->lock);
  return n;
}
