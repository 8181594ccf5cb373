// `dirigent-cli video export`: a folder of PNG frames written as MP4, WebM, GIF or a PNG sequence; and
// the export options, progress line and Ctrl+C cancel that `world clip` shares (dg_cli.h).
#include <errno.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dg_cli.h"
#include "dg_png.h"
#include "dg_video_export.h"
#include "dg_world_json.h"

#define MAX_FRAMES 10000
#define MAX_BYTES ((size_t)2 << 30)

static void usage(FILE *f) {
  fprintf(f,
          "usage: dirigent-cli video export --frames DIR --out OUT [--fps 8] [EXPORT OPTIONS]\n"
          "       dirigent-cli video generate --stage FRAME:PROMPT ... --out OUT (see video generate --help)\n\n"
          "Writes the PNG frames of DIR (every *.png, in natural name order, all of one size) as a video.\n"
          "A frame's `dirigent` job chunk, if the first frame has one, goes into the video's metadata.\n\n%s",
          DG_CLI_VIDEO_OPTIONS_HELP);
}

int dg_cli_video_option(const char *cmd, const char *a, const char *v, dg_video_export_opts *o, const char **format) {
  long n = 0;
  if (!strcmp(a, "--fps")) {
    if (v && dg_cli_parse_double(v, 0.01, 240, &o->fps)) return 1;
    fprintf(stderr, "%s: --fps needs a number in 0.01..240 (7.5, 23.976), got '%s'\n", cmd, v ? v : "(nothing)");
    return -1;
  }
  const char *opts[] = {"--crf", "--cpu-used", "--png-level"};
  const long lo[] = {0, 0, 1}, hi[] = {51, 8, 9};
  for (int i = 0; i < 3; i++)
    if (!strcmp(a, opts[i])) {
      if (!v || !dg_cli_parse_long(v, lo[i], hi[i], &n)) {
        fprintf(stderr, "%s: %s needs an integer in %ld..%ld, got '%s'\n", cmd, a, lo[i], hi[i], v ? v : "(nothing)");
        return -1;
      }
      *(i == 0 ? &o->crf : i == 1 ? &o->vp9_cpu_used : &o->png_level) = (int)n;
      return 1;
    }
  if (strcmp(a, "--preset") && strcmp(a, "--dither") && strcmp(a, "--format")) return 0;
  if (!v) {
    fprintf(stderr, "%s: %s needs a value\n", cmd, a);
    return -1;
  }
  if (!strcmp(a, "--preset")) o->preset = v;
  if (!strcmp(a, "--format")) *format = v;
  if (!strcmp(a, "--dither")) {
    for (int i = 0; i < DG_DITHER_COUNT; i++)
      if (!strcmp(v, dg_dither_names[i])) {
        o->dither = (dg_dither)i;
        return 1;
      }
    fprintf(stderr, "%s: --dither must be none, ordered or floyd-steinberg; got '%s'\n", cmd, v);
    return -1;
  }
  return 1;
}

typedef struct progress {
  const char *cmd;
  bool tty;
  int last;
} progress;

// A bar on a terminal, else a line at every quarter; on stderr.
static void on_progress(void *user, int done, int total) {
  progress *p = user;
  int pct = (int)(100LL * done / total);
  if (p->tty) {
    char bar[33];
    for (int i = 0; i < 32; i++)
      bar[i] = i < pct * 32 / 100 ? '#' : '.';
    bar[32] = 0;
    fprintf(stderr, "\r%s: [%s] %3d%% %d/%d frames%s", p->cmd, bar, pct, done, total, done == total ? "\n" : "");
  } else if (pct / 25 > p->last / 25 || done == total) {
    fprintf(stderr, "%s: %d%% (%d/%d frames)\n", p->cmd, pct, done, total);
  }
  p->last = pct;
}

static atomic_bool interrupted;
static void on_sigint(int sig) {
  (void)sig;
  atomic_store(&interrupted, true);
}

void dg_cli_video_catch_interrupt(void) {
  struct sigaction sa = {.sa_handler = on_sigint};
  sigaction(SIGINT, &sa, NULL);
}

int dg_cli_video_write(const char *cmd, const char *out, const char *format, const dg_media *m,
                       dg_video_export_opts *o) {
  dg_status s = format ? dg_video_format_from_name(format, &o->format) : dg_video_format_from_path(out, &o->format);
  if (s != DG_OK) {
    fprintf(stderr, "%s: %s\n", cmd, dg_last_error());
    return 2;
  }
  progress pg = {.cmd = cmd, .tty = isatty(2), .last = -1};
  o->progress = on_progress, o->user = &pg, o->cancel = &interrupted;
  dg_video_export_info info;
  gint64 t0 = g_get_monotonic_time();
  s = dg_video_export(out, m, o, &info);
  if (s != DG_OK) {
    if (pg.tty && pg.last >= 0) fprintf(stderr, "\n");
    fprintf(stderr, "%s: %s\n", cmd, dg_last_error());
    return s == DG_ERR_CANCELLED ? 130 : 1;
  }
  printf("wrote %s: %d frames, %dx%d, %g fps, %s (encoder %s) in %.2f s\n", out, m->frames, info.width, info.height,
         o->fps, dg_video_format_names[o->format], info.encoder, (g_get_monotonic_time() - t0) / 1e6);
  if (info.width != m->width || info.height != m->height)
    printf("note: H.264 needs even sides: %dx%d frames were padded with a copy of their last row or column\n", m->width,
           m->height);
  return 0;
}

// Natural order: digit runs compare by value (frame_2 before frame_10).
static int natural_cmp(const void *pa, const void *pb) {
  const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;
  while (*a && *b) {
    if (g_ascii_isdigit(*a) && g_ascii_isdigit(*b)) {
      char *ea, *eb;
      unsigned long long x = strtoull(a, &ea, 10), y = strtoull(b, &eb, 10);
      if (x != y) return x < y ? -1 : 1;
      a = ea, b = eb;
    } else {
      if (*a != *b) return (unsigned char)*a - (unsigned char)*b;
      a++, b++;
    }
  }
  return (unsigned char)*a - (unsigned char)*b;
}

// The PNGs of `dir` as frames; the first frame's job chunk into *job (or NULL).
static dg_status read_frames(const char *dir, dg_media *m, char **job) {
  GError *err = NULL;
  GDir *d = g_dir_open(dir, 0, &err);
  if (!d) {
    dg_status s = dg_fail(DG_ERR_IO, "%s: %s", dir, err->message);
    g_error_free(err);
    return s;
  }
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  for (const char *n; (n = g_dir_read_name(d));)
    if (g_str_has_suffix(n, ".png") || g_str_has_suffix(n, ".PNG")) g_ptr_array_add(names, g_strdup(n));
  g_dir_close(d);
  g_ptr_array_sort(names, natural_cmp);
  dg_status s = DG_OK;
  if (names->len == 0) s = dg_fail(DG_ERR_ARG, "%s: no .png files", dir);
  if (names->len > MAX_FRAMES) s = dg_fail(DG_ERR_ARG, "%s: %u frames (at most %d)", dir, names->len, MAX_FRAMES);
  for (guint i = 0; i < names->len && s == DG_OK; i++) {
    char *path = g_build_filename(dir, names->pdata[i], NULL);
    dg_png_limits lim = {.width = m->width, .height = m->height};
    int w = 0, h = 0;
    uint8_t *rgb = NULL;
    s = dg_png_read_rgb8_limited(path, i ? &lim : NULL, &w, &h, &rgb);
    if (s == DG_OK && i == 0) {
      if ((size_t)w * h * 3 * names->len > MAX_BYTES)
        s = dg_fail(DG_ERR_ARG, "%s: %u frames of %dx%d pass the %zu GiB limit", dir, names->len, w, h,
                    MAX_BYTES >> 30);
      else
        s = dg_media_alloc(m, (int)names->len, w, h, 3);
      dg_png_text_list texts;
      if (s == DG_OK && dg_png_read_texts(path, &texts) == DG_OK) {
        const char *t = dg_png_text_find(&texts, "dirigent");
        *job = t ? g_strdup(t) : NULL;
        dg_png_text_list_free(&texts);
      }
    }
    if (s == DG_OK) memcpy(dg_media_frame(m, (int)i), rgb, dg_media_frame_bytes(m));
    free(rgb);
    g_free(path);
  }
  g_ptr_array_free(names, TRUE);
  return s;
}

int dg_cli_video_args(const char *cmd, int argc, char **argv, const char *const *names, const char **values,
                      dg_video_export_opts *o, const char **format, void (*usage)(FILE *)) {
  for (int i = 1; i < argc; i += 2) { // every option but --help takes a value
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    }
    int taken = dg_cli_video_option(cmd, a, v, o, format);
    if (taken < 0) return 2;
    for (int k = 0; !taken && names[k]; k++)
      if (!strcmp(a, names[k])) {
        if (!v) {
          fprintf(stderr, "%s: %s needs a value\n", cmd, a);
          return 2;
        }
        values[k] = v, taken = 1;
      }
    if (!taken) {
      fprintf(stderr, "%s: unknown option '%s'\n", cmd, a);
      usage(stderr);
      return 2;
    }
  }
  return -1;
}

static int cmd_export(int argc, char **argv) {
  const char *cmd = "video export", *format = NULL, *values[2] = {NULL, NULL};
  static const char *const names[] = {"--frames", "--out", NULL};
  dg_video_export_opts o = DG_VIDEO_EXPORT_DEFAULTS;
  int rc = dg_cli_video_args(cmd, argc, argv, names, values, &o, &format, usage);
  if (rc >= 0) return rc;
  const char *frames = values[0], *out = values[1];
  if (!frames || !out) {
    fprintf(stderr, "%s: --frames and --out are required\n", cmd);
    usage(stderr);
    return 2;
  }
  dg_cli_video_catch_interrupt();
  dg_media m = {0};
  char *job = NULL;
  if (read_frames(frames, &m, &job) != DG_OK) {
    fprintf(stderr, "%s: %s\n", cmd, dg_last_error());
    dg_media_clear(&m);
    return 1;
  }
  if (!job) {
    dg_json j;
    dg_json_init(&j);
    dg_json_add(&j, "{\"source\": \"frames\", \"folder\": ");
    dg_json_str(&j, frames);
    dg_json_add(&j, ", \"frames\": %d, \"fps\": %g}", m.frames, o.fps);
    char *t = dg_json_finish(&j);
    job = g_strdup(t);
    free(t);
  }
  o.job_json = job;
  rc = dg_cli_video_write(cmd, out, format, &m, &o);
  g_free(job);
  dg_media_clear(&m);
  return rc;
}

int dg_cli_video(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "export")) return cmd_export(argc - 1, argv + 1);
  if (!strcmp(argv[1], "generate")) return dg_cli_video_generate(argc - 1, argv + 1);
  fprintf(stderr, "video: unknown subcommand '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
