// `dirigent-cli world sample|dataset`: the procedural world's samples and datasets (docs/world-format.md).
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dg_cli.h"
#include "dg_world.h"

static void usage_world(FILE *f) {
  fprintf(f, "usage: dirigent-cli world sample|dataset|clip [OPTIONS]\n\n"
             "  sample    write one scene: image, label map, colour label map, scene JSON and captions\n"
             "  dataset   write a train/val/test set with a JSONL index (docs/world-format.md)\n"
             "  clip      render one video clip and export it as MP4, WebM, GIF or PNGs (to look at the data)\n\n"
             "Run 'dirigent-cli world sample|dataset|clip --help' for options.\n");
}

static void usage_sample(FILE *f) {
  fprintf(f, "usage: dirigent-cli world sample --seed N --out DIR [--width W] [--height H]\n"
             "                                [--time day|sunset|night] [--weather clear|fog|rain|snow]\n"
             "                                [--season summer|autumn|winter]\n\n"
             "Writes DIR/world-N.png (RGB), world-N-label.png (8-bit indexed, pixel = class id, 255 unlabelled),\n"
             "world-N-label-color.png, world-N.json (scene graph with captions) and world-N-captions.json.\n"
             "The style is drawn from the seed unless given. Default size 256x128 (WxH).\n");
}

static void usage_dataset(FILE *f) {
  fprintf(f, "usage: dirigent-cli world dataset --split train|val|test --count N --out DIR\n"
             "                                 [--video --frames F] [--painted [--painted-settings train|test]]\n"
             "                                 [--threads T] [--width W] [--height H] [--png-level L]\n\n"
             "Writes N samples (or N video clips of F frames) and DIR/index.jsonl. Splits use disjoint seed\n"
             "ranges (train from 0, val from 1e9, test from 2e9). Samples already written are skipped, so an\n"
             "interrupted run can be resumed. Default: 256x128, 2 threads, deflate level 1. Prints images/s.\n"
             "--painted: layouts as people paint them (rectangles, polygons, strokes, blobs, unpainted gaps),\n"
             "rendered by the world's materials, from their own seeds; the test split uses the 'test' generator\n"
             "settings unless --painted-settings says otherwise.\n");
}

static bool parse_int(const char *opt, const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = s ? strtol(s, &end, 10) : 0;
  if (!s || errno || *end || end == s || v < lo || v > hi) {
    fprintf(stderr, "world: %s needs an integer in %ld..%ld, got '%s'\n", opt, lo, hi, s ? s : "(nothing)");
    return false;
  }
  *out = v;
  return true;
}

static int pick(const char *opt, const char *s, const char *const *names, int n) {
  for (int i = 0; s && i < n; i++)
    if (!strcmp(s, names[i])) return i;
  fprintf(stderr, "world: %s must be one of", opt);
  for (int i = 0; i < n; i++)
    fprintf(stderr, " %s", names[i]);
  fprintf(stderr, "; got '%s'\n", s ? s : "(nothing)");
  return -1;
}

static int cmd_sample(int argc, char **argv) {
  long seed = -1, w = 256, h = 128;
  const char *out = NULL;
  int tm = -1, we = -1, se = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage_sample(stdout);
      return 0;
    }
    bool ok = true;
    if (!strcmp(a, "--seed"))
      ok = parse_int(a, v, 0, LONG_MAX, &seed);
    else if (!strcmp(a, "--out"))
      ok = (out = v) != NULL;
    else if (!strcmp(a, "--width"))
      ok = parse_int(a, v, 16, 8192, &w);
    else if (!strcmp(a, "--height"))
      ok = parse_int(a, v, 16, 8192, &h);
    else if (!strcmp(a, "--time"))
      ok = (tm = pick(a, v, dg_world_time_names, DG_TIME_COUNT)) >= 0;
    else if (!strcmp(a, "--weather"))
      ok = (we = pick(a, v, dg_world_weather_names, DG_WEATHER_COUNT)) >= 0;
    else if (!strcmp(a, "--season"))
      ok = (se = pick(a, v, dg_world_season_names, DG_SEASON_COUNT)) >= 0;
    else {
      fprintf(stderr, "world sample: unknown option '%s'\n", a);
      usage_sample(stderr);
      return 2;
    }
    if (!ok) {
      if (!v) fprintf(stderr, "world sample: %s needs a value\n", a);
      return 2;
    }
    i++;
  }
  if (seed < 0 || !out) {
    fprintf(stderr, "world sample: --seed and --out are required\n");
    usage_sample(stderr);
    return 2;
  }
  dg_world_style st = dg_world_style_random((uint64_t)seed);
  if (tm >= 0) st.time = (dg_world_time)tm;
  if (we >= 0) st.weather = (dg_world_weather)we;
  if (se >= 0) st.season = (dg_world_season)se;
  if (dg_world_write_sample(out, (uint64_t)seed, (int)w, (int)h, &st) != DG_OK) {
    fprintf(stderr, "dirigent: %s\n", dg_last_error());
    return 1;
  }
  printf("wrote %s/world-%ld.png, -label.png, -label-color.png, .json, -captions.json (%s, %s, %s)\n", out, seed,
         dg_world_time_names[st.time], dg_world_weather_names[st.weather], dg_world_season_names[st.season]);
  return 0;
}

typedef struct progress {
  bool tty;
  int last;
} progress;

static void on_progress(void *user, int done, int total) {
  progress *p = user;
  if (!p->tty) return;
  int pct = (int)(100LL * done / total);
  if (pct == p->last && done != total) return; // a benign race between workers only repeats a line
  p->last = pct;
  char bar[41];
  int fill = pct * 40 / 100;
  for (int i = 0; i < 40; i++)
    bar[i] = i < fill ? '#' : '.';
  bar[40] = 0;
  printf("\r[%s] %3d%% %d/%d", bar, pct, done, total);
  if (done == total) printf("\n");
  fflush(stdout);
}

static int cmd_dataset(int argc, char **argv) {
  dg_world_dataset_opts o = {.width = 256, .height = 128, .threads = 2, .png_level = 1, .frames = 16};
  long v_ = 0;
  bool frames_given = false, settings_given = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage_dataset(stdout);
      return 0;
    }
    if (!strcmp(a, "--video")) {
      o.video = true;
      continue;
    }
    if (!strcmp(a, "--painted")) {
      o.painted = true;
      continue;
    }
    bool ok = true;
    if (!strcmp(a, "--painted-settings")) {
      int k = pick(a, v, dg_world_painted_settings_names, DG_PAINTED_COUNT);
      ok = k >= 0;
      if (ok) o.painted_settings = (dg_world_painted_settings)k;
      settings_given = true;
    } else
    if (!strcmp(a, "--split")) {
      static const char *const splits[] = {"train", "val", "test"};
      int k = pick(a, v, splits, 3);
      ok = k >= 0;
      if (ok) o.split = splits[k];
    } else if (!strcmp(a, "--out")) {
      ok = (o.dir = v) != NULL;
    } else if (!strcmp(a, "--count")) {
      ok = parse_int(a, v, 1, 100000000, &v_);
      o.count = (int)v_;
    } else if (!strcmp(a, "--frames")) {
      ok = parse_int(a, v, 2, DG_WORLD_MAX_FRAMES, &v_);
      o.frames = (int)v_;
      frames_given = true;
    } else if (!strcmp(a, "--threads")) {
      ok = parse_int(a, v, 1, 256, &v_);
      o.threads = (int)v_;
    } else if (!strcmp(a, "--width")) {
      ok = parse_int(a, v, 16, 8192, &v_);
      o.width = (int)v_;
    } else if (!strcmp(a, "--height")) {
      ok = parse_int(a, v, 16, 8192, &v_);
      o.height = (int)v_;
    } else if (!strcmp(a, "--png-level")) {
      ok = parse_int(a, v, 1, 9, &v_);
      o.png_level = (int)v_;
    } else {
      fprintf(stderr, "world dataset: unknown option '%s'\n", a);
      usage_dataset(stderr);
      return 2;
    }
    if (!ok) {
      if (!v) fprintf(stderr, "world dataset: %s needs a value\n", a);
      return 2;
    }
    i++;
  }
  if (!o.split || !o.dir || !o.count) {
    fprintf(stderr, "world dataset: --split, --count and --out are required\n");
    usage_dataset(stderr);
    return 2;
  }
  if (frames_given && !o.video) {
    fprintf(stderr, "world dataset: --frames needs --video\n");
    return 2;
  }
  if (settings_given && !o.painted) {
    fprintf(stderr, "world dataset: --painted-settings needs --painted\n");
    return 2;
  }
  if (o.painted && !settings_given) // the test split is painted with other settings than training
    o.painted_settings = !strcmp(o.split, "test") ? DG_PAINTED_TEST : DG_PAINTED_TRAIN;
  progress p = {isatty(STDOUT_FILENO), -1};
  o.progress = on_progress;
  o.user = &p;
  dg_world_dataset_stats st = {0};
  if (dg_world_dataset(&o, &st) != DG_OK) {
    if (p.tty) printf("\n");
    fprintf(stderr, "dirigent: %s\n", dg_last_error());
    return 1;
  }
  long images = (long)st.written * (o.video ? o.frames : 1);
  printf("%s: %d %s written, %d skipped (already present), %s/index.jsonl\n", o.split, st.written,
         o.video ? "clips" : "samples", st.skipped, o.dir);
  printf("%ld images (%dx%d, image + label PNG, deflate level %d) in %.2f s: %.1f images/s with %d threads\n", images,
         o.width, o.height, o.png_level, st.seconds, st.seconds > 0 ? images / st.seconds : 0.0, o.threads);
  return 0;
}

int dg_cli_world(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage_world(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "sample")) return cmd_sample(argc - 1, argv + 1);
  if (!strcmp(argv[1], "dataset")) return cmd_dataset(argc - 1, argv + 1);
  if (!strcmp(argv[1], "clip")) return dg_cli_world_clip(argc - 1, argv + 1);
  fprintf(stderr, "world: unknown subcommand '%s'\n", argv[1]);
  usage_world(stderr);
  return 2;
}
