// Video export: format choice, checks, the temporary file or folder and its rename, PNG sequences
// (dg_video_export.h). The libav encoding is dg_video_encode.c.
#include "dg_video_export.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dg_png.h"
#include "dg_video_encode.h"

const char *const dg_video_format_names[DG_VIDEO_FORMAT_COUNT] = {"mp4", "webm", "gif", "png"};

#define MAX_SIDE 8192

dg_status dg_video_format_from_name(const char *name, dg_video_format *out) {
  for (int i = 0; name && i < DG_VIDEO_FORMAT_COUNT; i++)
    if (!strcmp(name, dg_video_format_names[i])) {
      *out = (dg_video_format)i;
      return DG_OK;
    }
  return dg_fail(DG_ERR_ARG, "video format '%s': not mp4, webm, gif or png", name ? name : "");
}

dg_status dg_video_format_from_path(const char *path, dg_video_format *out) {
  size_t n = path ? strlen(path) : 0;
  if (n == 0) return dg_fail(DG_ERR_ARG, "video export: no output path");
  if (path[n - 1] == '/' || g_file_test(path, G_FILE_TEST_IS_DIR)) {
    *out = DG_VIDEO_PNG;
    return DG_OK;
  }
  const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
  if (dot && (!slash || dot > slash))
    for (int i = 0; i < DG_VIDEO_PNG; i++)
      if (!g_ascii_strcasecmp(dot + 1, dg_video_format_names[i])) {
        *out = (dg_video_format)i;
        return DG_OK;
      }
  return dg_fail(DG_ERR_ARG, "%s: not a video file name (.mp4, .webm, .gif) or a folder (DIR/, a PNG sequence)", path);
}

const char *dg_video_encoder_name(dg_video_format f) {
  return f == DG_VIDEO_MP4 ? "libx264" : f == DG_VIDEO_WEBM ? "libvpx-vp9" : f == DG_VIDEO_GIF ? "gif" : NULL;
}

dg_status dg_video_cancel_check(const char *shown, const dg_video_export_opts *o, int i, int n) {
  if (!o->cancel || !atomic_load(o->cancel)) return DG_OK;
  return dg_fail(DG_ERR_CANCELLED, "%s: %s export cancelled at frame %d of %d", shown, dg_video_format_names[o->format],
                 i, n);
}

// The libav module (dg_video_encode.h), loaded once: beside libdirigent.so unless $DIRIGENT_VIDEO_MODULE
// names it.
static struct {
  dg_status (*encode)(const char *, const char *, const dg_media *, const dg_video_export_opts *,
                      dg_video_export_info *);
  bool (*exists)(const char *);
  char path[1024], error[1024];
} codecs;

static void load_codecs(void) {
  const char *env = getenv("DIRIGENT_VIDEO_MODULE");
  Dl_info di;
  if (env && *env) {
    g_strlcpy(codecs.path, env, sizeof codecs.path);
  } else if (dladdr((void *)dg_video_export, &di) && di.dli_fname) {
    char *dir = g_path_get_dirname(di.dli_fname);
    g_snprintf(codecs.path, sizeof codecs.path, "%s/%s", dir, DG_VIDEO_MODULE);
    g_free(dir);
  } else {
    g_strlcpy(codecs.path, DG_VIDEO_MODULE, sizeof codecs.path);
  }
  void *h = dlopen(codecs.path, RTLD_NOW | RTLD_LOCAL);
  if (h) {
    *(void **)&codecs.encode = dlsym(h, "dg_video_encode");
    *(void **)&codecs.exists = dlsym(h, "dg_video_encoder_exists");
  }
  if (!h || !codecs.encode || !codecs.exists) {
    const char *why = dlerror();
    g_strlcpy(codecs.error, why ? why : "no entry points", sizeof codecs.error);
    codecs.encode = NULL;
  }
}

bool dg_video_format_available(dg_video_format f) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  const char *name = dg_video_encoder_name(f);
  if (!name) return true;
  pthread_once(&once, load_codecs);
  if (!codecs.encode) {
    dg_fail(DG_ERR_UNSUPPORTED, "%s export needs the libav module %s, which cannot be loaded: %s",
            dg_video_format_names[f], codecs.path, codecs.error);
    return false;
  }
  if (codecs.exists(name)) return true;
  dg_fail(DG_ERR_UNSUPPORTED, "%s export needs the '%s' encoder, which this libavcodec lacks", dg_video_format_names[f],
          name);
  return false;
}

void dg_video_fps_rational(double fps, int *num, int *den) {
  long ntsc = lround(fps * 1.001);
  if (ntsc >= 1 && fabs(fps - ntsc / 1.001) < 0.0005 && fabs(fps - ntsc) > 0.0005) {
    *num = (int)ntsc * 1000, *den = 1001;
    return;
  }
  long n = lround(fps * 1000), a = n > 0 ? n : 1, b = 1000;
  while (b) { // a = gcd(n, 1000)
    long t = a % b;
    a = b, b = t;
  }
  *num = n > 0 ? (int)(n / a) : 1, *den = n > 0 ? (int)(1000 / a) : 1000;
}

static dg_status check(const char *path, const dg_media *m, const dg_video_export_opts *o) {
  if ((unsigned)o->format >= DG_VIDEO_FORMAT_COUNT)
    return dg_fail(DG_ERR_ARG, "%s: unknown video format %d", path, (int)o->format);
  const char *f = dg_video_format_names[o->format];
  if (!m->data || m->frames < 1) return dg_fail(DG_ERR_ARG, "%s: %s export: no frames", path, f);
  if (m->channels != 3 && m->channels != 4)
    return dg_fail(DG_ERR_ARG, "%s: %s export: %d channels (RGB or RGBA)", path, f, m->channels);
  if (m->width < 2 || m->height < 2 || m->width > MAX_SIDE || m->height > MAX_SIDE)
    return dg_fail(DG_ERR_ARG, "%s: %s export: %dx%d frames (sides 2..%d)", path, f, m->width, m->height, MAX_SIDE);
  if (!(o->fps >= 0.01 && o->fps <= 240))
    return dg_fail(DG_ERR_ARG, "%s: %s export: %g fps (0.01..240)", path, f, o->fps);
  if (o->crf > 51 || o->vp9_cpu_used > 8 || o->png_level < 0 || o->png_level > 9 ||
      (unsigned)o->dither >= DG_DITHER_COUNT)
    return dg_fail(DG_ERR_ARG,
                   "%s: %s export: a quality setting out of range (crf 0..51, cpu-used 0..8, png level 1..9)", path, f);
  return DG_OK;
}

// The folder that will hold the temporary file or folder: path's own (".": none given).
static char *temp_template(const char *path) {
  char *trimmed = g_strdup(path);
  size_t n = strlen(trimmed);
  while (n > 1 && trimmed[n - 1] == '/')
    trimmed[--n] = 0;
  char *dir = g_path_get_dirname(trimmed), *base = g_path_get_basename(trimmed);
  char *tmpl = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
  g_free(trimmed), g_free(dir), g_free(base);
  return tmpl;
}

static dg_status export_file(const char *path, const dg_media *m, const dg_video_export_opts *o,
                             dg_video_export_info *info) {
  if (g_file_test(path, G_FILE_TEST_IS_DIR))
    return dg_fail(DG_ERR_ARG, "%s: %s export: is a folder", path, dg_video_format_names[o->format]);
  if (!dg_video_format_available(o->format)) return dg_fail(DG_ERR_UNSUPPORTED, "%s: %s", path, dg_last_error());
  char *tmp = temp_template(path);
  int fd = g_mkstemp_full(tmp, O_WRONLY, 0644);
  if (fd < 0) {
    int err = errno;
    char *dir = g_path_get_dirname(tmp);
    dg_status s = dg_fail(DG_ERR_IO, "%s: %s export: cannot create a file in %s: %s", path,
                          dg_video_format_names[o->format], dir, g_strerror(err));
    g_free(dir), g_free(tmp);
    return s;
  }
  close(fd);
  dg_status s = codecs.encode(tmp, path, m, o, info);
  if (s == DG_OK && g_rename(tmp, path) != 0)
    s = dg_fail(DG_ERR_IO, "%s: %s export: cannot rename %s into place: %s", path, dg_video_format_names[o->format],
                tmp, g_strerror(errno));
  if (s != DG_OK) g_unlink(tmp);
  g_free(tmp);
  return s;
}

// Removes the frames written so far and the temporary folder.
static void remove_frames(const char *dir, int n) {
  for (int i = 0; i < n; i++) {
    char *p = g_strdup_printf("%s/frame_%04d.png", dir, i);
    g_unlink(p);
    g_free(p);
  }
  g_rmdir(dir);
}

static dg_status export_png(const char *path, const dg_media *m, const dg_video_export_opts *o,
                            dg_video_export_info *info) {
  if (g_file_test(path, G_FILE_TEST_EXISTS)) {
    GDir *d = g_file_test(path, G_FILE_TEST_IS_DIR) ? g_dir_open(path, 0, NULL) : NULL;
    bool empty = d && !g_dir_read_name(d);
    if (d) g_dir_close(d);
    if (!empty)
      return dg_fail(DG_ERR_ARG, "%s: png export: not an empty folder (a PNG sequence goes to a new one)", path);
  }
  char *tmp = temp_template(path);
  if (!g_mkdtemp_full(tmp, 0755)) {
    int err = errno;
    char *dir = g_path_get_dirname(tmp);
    dg_status s = dg_fail(DG_ERR_IO, "%s: png export: cannot create a folder in %s: %s", path, dir, g_strerror(err));
    g_free(dir), g_free(tmp);
    return s;
  }
  dg_png_text text = {"dirigent", o->job_json};
  dg_png_write_opts po = {.level = o->png_level, .texts = &text, .n_texts = o->job_json && *o->job_json};
  dg_status s = DG_OK;
  int written = 0;
  size_t stride = dg_media_frame_bytes(m);
  uint8_t *rgb = m->channels == 3 ? NULL : g_try_malloc((size_t)m->width * m->height * 3);
  if (m->channels != 3 && !rgb) s = dg_fail(DG_ERR_OOM, "%s: png export: out of memory", path);
  for (int i = 0; i < m->frames && s == DG_OK; i++) {
    if ((s = dg_video_cancel_check(path, o, i, m->frames)) != DG_OK) break;
    const uint8_t *px = m->data + (size_t)i * stride;
    if (rgb)
      for (size_t p = 0; p < (size_t)m->width * m->height; p++)
        memcpy(rgb + 3 * p, px + 4 * p, 3);
    char *name = g_strdup_printf("%s/frame_%04d.png", tmp, i);
    s = dg_png_write_rgb8(name, m->width, m->height, rgb ? rgb : px, &po);
    g_free(name);
    if (s != DG_OK) {
      s = dg_fail(s, "%s: png export: %s", path, dg_last_error());
      break;
    }
    written = i + 1;
    if (o->progress) o->progress(o->user, i + 1, m->frames);
  }
  g_free(rgb);
  if (s == DG_OK && g_rename(tmp, path) != 0)
    s = dg_fail(DG_ERR_IO, "%s: png export: cannot rename %s into place: %s", path, tmp, g_strerror(errno));
  if (s != DG_OK) remove_frames(tmp, written);
  g_free(tmp);
  if (s == DG_OK && info) *info = (dg_video_export_info){m->width, m->height, "png"};
  return s;
}

dg_status dg_video_export(const char *path, const dg_media *frames, const dg_video_export_opts *opts,
                          dg_video_export_info *info) {
  if (!path || !*path) return dg_fail(DG_ERR_ARG, "video export: no output path");
  DG_TRY(check(path, frames, opts));
  return opts->format == DG_VIDEO_PNG ? export_png(path, frames, opts, info) : export_file(path, frames, opts, info);
}
