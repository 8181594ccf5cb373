// Writing samples and datasets of the procedural world (docs/world-format.md). Every file is written
// under a temporary name and renamed, and each sample's index line (meta/ID.json) is written last, so an
// interrupted run resumes by skipping the samples whose index line exists.
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dg_world.h"
#include "dg_world_json.h"

static dg_status make_dir(const char *path) {
  char buf[4096];
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof buf) return dg_fail(DG_ERR_ARG, "world: bad directory '%s'", path);
  memcpy(buf, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != 0) continue;
    char c = buf[i];
    buf[i] = 0;
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
      return dg_fail(DG_ERR_IO, "world: cannot create '%s': %s", buf, strerror(errno));
    buf[i] = c;
  }
  return DG_OK;
}

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && st.st_size > 0;
}

static dg_status write_text(const char *path, const char *text) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  if (!f) return dg_fail(DG_ERR_IO, "world: cannot create '%s': %s", tmp, strerror(errno));
  size_t n = strlen(text);
  bool ok = fwrite(text, 1, n, f) == n;
  ok &= fclose(f) == 0;
  if (!ok || rename(tmp, path) != 0) {
    remove(tmp);
    return dg_fail(DG_ERR_IO, "world: cannot write '%s'", path);
  }
  return DG_OK;
}

static dg_status rename_into(const char *tmp, const char *path) {
  if (rename(tmp, path) != 0) {
    remove(tmp);
    return dg_fail(DG_ERR_IO, "world: cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
  }
  return DG_OK;
}

static dg_status write_rgb(const char *path, int w, int h, const uint8_t *rgb, const dg_png_write_opts *o) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  DG_TRY(dg_png_write_rgb8(tmp, w, h, rgb, o));
  return rename_into(tmp, path);
}

static dg_status write_label(const char *path, int w, int h, const uint8_t *ids, const dg_png_write_opts *o) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  DG_TRY(dg_png_write_label(tmp, w, h, ids, dg_world_palette(), o));
  return rename_into(tmp, path);
}

dg_status dg_world_write_sample(const char *dir, uint64_t seed, int width, int height, const dg_world_style *style) {
  DG_TRY(make_dir(dir));
  dg_world_scene *s = malloc(sizeof *s);
  size_t n = (size_t)width * height;
  uint8_t *rgb = malloc(n * 3), *label = malloc(n), *color = malloc(n * 3);
  dg_status st = s && rgb && label && color ? DG_OK : dg_fail(DG_ERR_OOM, "world sample: out of memory");
  if (st == DG_OK) st = dg_world_generate(seed, width, height, style ? *style : dg_world_style_random(seed), s);
  if (st == DG_OK) st = dg_world_render(s, rgb, label, NULL);
  char path[4096];
  dg_world_caption caps[DG_WORLD_MAX_CAPTIONS];
  int nc = st == DG_OK ? dg_world_captions(s, caps) : 0;
  char *scene = st == DG_OK ? dg_world_scene_json(s, caps, nc) : NULL;
  char *capj = st == DG_OK ? dg_world_captions_json(caps, nc) : NULL;
  if (st == DG_OK && (!scene || !capj)) st = dg_fail(DG_ERR_OOM, "world sample: out of memory");
  if (st == DG_OK) {
    char seed_text[32];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
    dg_png_text texts[] = {
        {"Software", "Dirigent procedural world"}, {"dirigent-world-seed", seed_text}, {"Description", caps[0].text}};
    dg_png_write_opts o = {.level = 6, .texts = texts, .n_texts = nc ? 3 : 2};
    snprintf(path, sizeof path, "%s/world-%llu.png", dir, (unsigned long long)seed);
    st = write_rgb(path, width, height, rgb, &o);
  }
  if (st == DG_OK) {
    snprintf(path, sizeof path, "%s/world-%llu-label.png", dir, (unsigned long long)seed);
    st = write_label(path, width, height, label, NULL);
  }
  if (st == DG_OK) {
    for (size_t i = 0; i < n; i++) {
      const uint8_t *c = label[i] < DG_WORLD_NUM_CLASSES ? dg_world_classes[label[i]].rgb : (const uint8_t[3]){0, 0, 0};
      memcpy(color + 3 * i, c, 3);
    }
    snprintf(path, sizeof path, "%s/world-%llu-label-color.png", dir, (unsigned long long)seed);
    st = write_rgb(path, width, height, color, NULL);
  }
  if (st == DG_OK) {
    snprintf(path, sizeof path, "%s/world-%llu.json", dir, (unsigned long long)seed);
    st = write_text(path, scene);
  }
  if (st == DG_OK) {
    snprintf(path, sizeof path, "%s/world-%llu-captions.json", dir, (unsigned long long)seed);
    st = write_text(path, capj);
  }
  free(scene);
  free(capj);
  free(s);
  free(rgb);
  free(label);
  free(color);
  return st;
}

dg_status dg_world_split_base(const char *split, uint64_t *base) {
  static const char *names[] = {"train", "val", "test"};
  for (int i = 0; i < 3; i++)
    if (split && !strcmp(split, names[i])) {
      *base = (uint64_t)i * DG_WORLD_SPLIT_RANGE;
      return DG_OK;
    }
  return dg_fail(DG_ERR_ARG, "world: unknown split '%s' (train, val or test)", split ? split : "(null)");
}

// ---------------------------------------------------------------------------------------------

typedef struct job {
  const dg_world_dataset_opts *o;
  uint64_t base;
  atomic_int next, done, written, skipped, failed;
  pthread_mutex_t lock;
  char error[1024];
  dg_status status;
} job;

static void sample_id(const job *j, int i, char *out, size_t n) {
  if (j->o->video)
    snprintf(out, n, "%s-v%06d", j->o->split, i);
  else if (j->o->painted)
    snprintf(out, n, "%s-p%07d", j->o->split, i);
  else
    snprintf(out, n, "%s-%07d", j->o->split, i);
}

// Painted samples take the upper half of the split's seed range, world scenes the lower.
#define PAINTED_SEED_OFFSET (DG_WORLD_SPLIT_RANGE / 2)

static dg_status image_sample(const job *j, int i, const char *id, uint8_t *rgb, uint8_t *label, dg_world_scene *s) {
  const dg_world_dataset_opts *o = j->o;
  uint64_t seed = j->base + (uint64_t)i + (o->painted ? PAINTED_SEED_OFFSET : 0);
  if (o->painted) {
    uint8_t *attr = malloc((size_t)o->width * o->height);
    if (!attr) return dg_fail(DG_ERR_OOM, "world dataset: out of memory");
    dg_status st = dg_world_painted(seed, o->width, o->height, o->painted_settings, label, attr, s);
    if (st == DG_OK) st = dg_world_render_labels(label, attr, o->width, o->height, s->mood, seed, rgb);
    free(attr);
    DG_TRY(st);
  } else {
    DG_TRY(dg_world_generate(seed, o->width, o->height, dg_world_style_random(seed), s));
    DG_TRY(dg_world_render(s, rgb, label, NULL));
  }
  dg_world_caption caps[DG_WORLD_MAX_CAPTIONS];
  int nc = dg_world_captions(s, caps);
  dg_png_write_opts po = {.level = o->png_level > 0 ? o->png_level : 1};
  char path[4096];
  snprintf(path, sizeof path, "%s/images/%s.png", o->dir, id);
  DG_TRY(write_rgb(path, o->width, o->height, rgb, &po));
  snprintf(path, sizeof path, "%s/labels/%s.png", o->dir, id);
  DG_TRY(write_label(path, o->width, o->height, label, &po));
  char *scene = dg_world_scene_json(s, caps, nc);
  if (!scene) return dg_fail(DG_ERR_OOM, "world dataset: out of memory");
  snprintf(path, sizeof path, "%s/scenes/%s.json", o->dir, id);
  dg_status st = write_text(path, scene);
  free(scene);
  DG_TRY(st);
  dg_json js;
  dg_json_init(&js);
  dg_json_add(&js,
              "{\"id\": \"%s\", \"seed\": %llu, \"width\": %d, \"height\": %d, \"image\": \"images/%s.png\", "
              "\"label\": \"labels/%s.png\", \"scene\": \"scenes/%s.json\", \"layout\": \"%s\", ",
              id, (unsigned long long)seed, o->width, o->height, id, id, id, dg_world_layout_names[s->layout]);
  if (o->painted) dg_json_add(&js, "\"painted\": \"%s\", ", dg_world_painted_settings_names[o->painted_settings]);
  dg_json_add(&js, "\"style\": ");
  dg_json_style(&js, s->style);
  dg_json_add(&js, ", \"captions\": ");
  dg_json_captions(&js, caps, nc);
  dg_json_add(&js, "}\n");
  char *line = dg_json_finish(&js);
  if (!line) return dg_fail(DG_ERR_OOM, "world dataset: out of memory");
  snprintf(path, sizeof path, "%s/meta/%s.json", o->dir, id);
  st = write_text(path, line);
  free(line);
  return st;
}

static dg_status video_sample(const job *j, int i, const char *id, uint8_t *rgb, uint8_t *label, dg_world_scene *s) {
  const dg_world_dataset_opts *o = j->o;
  uint64_t seed = j->base + (uint64_t)i;
  dg_world_clip *clip = malloc(sizeof *clip);
  if (!clip) return dg_fail(DG_ERR_OOM, "world dataset: out of memory");
  char path[4096];
  dg_status st = dg_world_clip_plan(seed, o->width, o->height, o->frames, clip);
  snprintf(path, sizeof path, "%s/videos/%s", o->dir, id);
  if (st == DG_OK) st = make_dir(path);
  dg_png_write_opts po = {.level = o->png_level > 0 ? o->png_level : 1};
  for (int f = 0; f < o->frames && st == DG_OK; f++) {
    dg_world_clip_frame(clip, f, s);
    st = dg_world_render_ex(s, rgb, label, NULL, false, false);
    snprintf(path, sizeof path, "%s/videos/%s/img_%03d.png", o->dir, id, f);
    if (st == DG_OK) st = write_rgb(path, o->width, o->height, rgb, &po);
    snprintf(path, sizeof path, "%s/videos/%s/lab_%03d.png", o->dir, id, f);
    if (st == DG_OK) st = write_label(path, o->width, o->height, label, &po);
  }
  if (st == DG_OK) {
    char *scene = dg_world_scene_json(&clip->base, NULL, 0);
    snprintf(path, sizeof path, "%s/videos/%s/scene.json", o->dir, id);
    st = scene ? write_text(path, scene) : dg_fail(DG_ERR_OOM, "world dataset: out of memory");
    free(scene);
  }
  if (st == DG_OK) {
    dg_json js;
    dg_json_init(&js);
    dg_json_add(&js,
                "{\"id\": \"%s\", \"seed\": %llu, \"width\": %d, \"height\": %d, \"frames\": %d, \"frame_images\": [",
                id, (unsigned long long)seed, o->width, o->height, o->frames);
    for (int f = 0; f < o->frames; f++)
      dg_json_add(&js, "%s\"videos/%s/img_%03d.png\"", f ? ", " : "", id, f);
    dg_json_add(&js, "], \"frame_labels\": [");
    for (int f = 0; f < o->frames; f++)
      dg_json_add(&js, "%s\"videos/%s/lab_%03d.png\"", f ? ", " : "", id, f);
    dg_json_add(&js, "], \"scene\": \"videos/%s/scene.json\", \"caption\": ", id);
    dg_json_str(&js, clip->caption);
    dg_json_add(&js, ", \"transition\": \"%s\", \"stages\": [", dg_world_clip_names[clip->kind]);
    for (int k = 0; k < clip->n_stages; k++) {
      const dg_world_stage *g = &clip->stages[k];
      dg_json_add(&js, "%s{\"text\": ", k ? ", " : "");
      dg_json_str(&js, g->text);
      dg_json_add(&js, ", \"start\": %d, \"end\": %d, \"style\": ", g->start, g->end);
      dg_json_style(&js, g->style);
      dg_json_add(&js, "}");
    }
    dg_json_add(&js, "]}\n");
    char *line = dg_json_finish(&js);
    snprintf(path, sizeof path, "%s/meta/%s.json", o->dir, id);
    st = line ? write_text(path, line) : dg_fail(DG_ERR_OOM, "world dataset: out of memory");
    free(line);
  }
  free(clip);
  return st;
}

static void *worker(void *arg) {
  job *j = arg;
  const dg_world_dataset_opts *o = j->o;
  size_t n = (size_t)o->width * o->height;
  uint8_t *rgb = malloc(n * 3), *label = malloc(n);
  dg_world_scene *s = malloc(sizeof *s);
  if (!rgb || !label || !s) {
    pthread_mutex_lock(&j->lock);
    if (j->status == DG_OK) {
      j->status = DG_ERR_OOM;
      snprintf(j->error, sizeof j->error, "world dataset: out of memory");
    }
    pthread_mutex_unlock(&j->lock);
    atomic_store(&j->failed, 1);
  }
  while (!atomic_load(&j->failed)) {
    int i = atomic_fetch_add(&j->next, 1);
    if (i >= o->count) break;
    char id[64], meta[4200];
    sample_id(j, i, id, sizeof id);
    snprintf(meta, sizeof meta, "%s/meta/%s.json", o->dir, id);
    dg_status st = DG_OK;
    if (exists(meta)) {
      atomic_fetch_add(&j->skipped, 1);
    } else {
      st = o->video ? video_sample(j, i, id, rgb, label, s) : image_sample(j, i, id, rgb, label, s);
      if (st == DG_OK) atomic_fetch_add(&j->written, 1);
    }
    if (st != DG_OK) {
      pthread_mutex_lock(&j->lock);
      if (j->status == DG_OK) {
        j->status = st;
        snprintf(j->error, sizeof j->error, "%s", dg_last_error());
      }
      pthread_mutex_unlock(&j->lock);
      atomic_store(&j->failed, 1);
      break;
    }
    int done = atomic_fetch_add(&j->done, 1) + 1;
    if (o->progress) o->progress(o->user, done, o->count);
  }
  free(rgb);
  free(label);
  free(s);
  return NULL;
}

static dg_status write_index(const job *j) {
  const dg_world_dataset_opts *o = j->o;
  char path[4096], tmp[4200], meta[4200];
  snprintf(path, sizeof path, "%s/index.jsonl", o->dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *out = fopen(tmp, "wb");
  if (!out) return dg_fail(DG_ERR_IO, "world dataset: cannot create '%s': %s", tmp, strerror(errno));
  char buf[65536];
  for (int i = 0; i < o->count; i++) {
    char id[64];
    sample_id(j, i, id, sizeof id);
    snprintf(meta, sizeof meta, "%s/meta/%s.json", o->dir, id);
    FILE *in = fopen(meta, "rb");
    if (!in) {
      fclose(out);
      remove(tmp);
      return dg_fail(DG_ERR_IO, "world dataset: missing '%s'", meta);
    }
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0)
      fwrite(buf, 1, k, out);
    fclose(in);
  }
  if (fclose(out) != 0 || rename(tmp, path) != 0) {
    remove(tmp);
    return dg_fail(DG_ERR_IO, "world dataset: cannot write '%s'", path);
  }
  return DG_OK;
}

dg_status dg_world_dataset(const dg_world_dataset_opts *o, dg_world_dataset_stats *stats) {
  uint64_t base;
  if (!o || !o->dir) return dg_fail(DG_ERR_ARG, "world dataset: no output directory");
  DG_TRY(dg_world_split_base(o->split, &base));
  if (o->count < 1 || (uint64_t)o->count > DG_WORLD_SPLIT_RANGE)
    return dg_fail(DG_ERR_ARG, "world dataset: count %d must be 1..%llu", o->count,
                   (unsigned long long)DG_WORLD_SPLIT_RANGE);
  if (o->width < 16 || o->height < 16 || o->width > 8192 || o->height > 8192)
    return dg_fail(DG_ERR_ARG, "world dataset: size %dx%d must be within 16..8192", o->width, o->height);
  if (o->video && o->painted) return dg_fail(DG_ERR_ARG, "world dataset: painted layouts are images, not videos");
  if (o->painted && (unsigned)o->painted_settings >= DG_PAINTED_COUNT)
    return dg_fail(DG_ERR_ARG, "world dataset: painted settings %d unknown", (int)o->painted_settings);
  if (o->video && (o->frames < 2 || o->frames > DG_WORLD_MAX_FRAMES))
    return dg_fail(DG_ERR_ARG, "world dataset: --frames %d must be 2..%d", o->frames, DG_WORLD_MAX_FRAMES);
  if (o->threads < 1 || o->threads > 256)
    return dg_fail(DG_ERR_ARG, "world dataset: threads %d must be 1..256", o->threads);
  char path[4200];
  const char *subdirs[] = {"images", "labels", "scenes", "meta", "videos"};
  for (int k = 0; k < 5; k++) {
    if (o->video != (k == 4) && k != 3) continue;
    snprintf(path, sizeof path, "%s/%s", o->dir, subdirs[k]);
    DG_TRY(make_dir(path));
  }
  job j = {.o = o, .base = base, .status = DG_OK};
  pthread_mutex_init(&j.lock, NULL);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pthread_t th[256];
  int started = 0;
  for (int t = 1; t < o->threads; t++)
    if (pthread_create(&th[started], NULL, worker, &j) == 0) started++;
  worker(&j);
  for (int t = 0; t < started; t++)
    pthread_join(th[t], NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  pthread_mutex_destroy(&j.lock);
  if (stats) {
    stats->written = atomic_load(&j.written);
    stats->skipped = atomic_load(&j.skipped);
    stats->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  }
  if (j.status != DG_OK) return dg_fail(j.status, "%s", j.error);
  return write_index(&j);
}
