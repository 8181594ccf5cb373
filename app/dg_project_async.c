#include "dg_project_async.h"

#include "dg_project.h"

G_DEFINE_QUARK(dg - project - error - quark, dg_project_error)

typedef struct save_job {
  dg_document *snapshot;
  char *path;
} save_job;

static void save_job_free(gpointer data) {
  save_job *job = data;
  dg_document_free(job->snapshot);
  g_free(job->path);
  g_free(job);
}

static GMutex lock;
static GCond idle;
static GThreadPool *pool; // one thread: saves are written in the order they were asked for
static int pending;
static void (*observer)(const char *path, void *user);
static void *observer_user;

void dg_project_set_write_observer(void (*fn)(const char *path, void *user), void *user) {
  g_mutex_lock(&lock);
  observer = fn;
  observer_user = user;
  g_mutex_unlock(&lock);
}

static void write_one(gpointer data, gpointer unused) {
  (void)unused;
  GTask *task = data;
  save_job *job = g_task_get_task_data(task);
  g_mutex_lock(&lock);
  void (*fn)(const char *, void *) = observer;
  void *user = observer_user;
  g_mutex_unlock(&lock);
  if (fn) fn(job->path, user);
  dg_status st = g_task_return_error_if_cancelled(task) ? DG_ERR_CANCELLED : dg_project_save(job->snapshot, job->path);
  if (st == DG_OK)
    g_task_return_boolean(task, TRUE);
  else if (st != DG_ERR_CANCELLED)
    g_task_return_new_error(task, DG_PROJECT_ERROR, (int)st, "%s", dg_last_error());
  g_object_unref(task);
  g_mutex_lock(&lock);
  if (--pending == 0) g_cond_broadcast(&idle);
  g_mutex_unlock(&lock);
}

void dg_project_save_async(const dg_document *doc, const char *path, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data) {
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, dg_project_save_async);
  save_job *job = g_new0(save_job, 1);
  job->snapshot = dg_document_copy(doc);
  job->path = g_strdup(path);
  g_task_set_task_data(task, job, save_job_free);
  if (!job->snapshot) { // no memory for the copy: nothing is queued
    g_task_return_new_error(task, DG_PROJECT_ERROR, DG_ERR_OOM, "%s: %s", path, dg_last_error());
    g_object_unref(task);
    return;
  }
  g_mutex_lock(&lock);
  if (!pool) pool = g_thread_pool_new(write_one, NULL, 1, FALSE, NULL);
  pending++;
  g_mutex_unlock(&lock);
  g_thread_pool_push(pool, task, NULL);
}

bool dg_project_save_finish(GAsyncResult *result, GError **error) {
  g_return_val_if_fail(g_task_is_valid(result, NULL), false);
  return g_task_propagate_boolean(G_TASK(result), error);
}

void dg_project_wait_saves(void) {
  g_mutex_lock(&lock);
  while (pending > 0)
    g_cond_wait(&idle, &lock);
  g_mutex_unlock(&lock);
}
