// `dirigent-cli world clip`: one of the procedural world's video clips (the training clips of
// `world dataset --video`) rendered and exported as a video, to look at the data. A data and evaluation
// tool: the world renderer never stands in for generation.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_cli.h"
#include "dg_world.h"
#include "dg_world_json.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: dirigent-cli world clip --seed N --frames F --out OUT [--kind time|weather|season|motion]\n"
          "                              [--size WxH] [--fps 8] [EXPORT OPTIONS]\n\n"
          "Renders the world's video clip for seed N (F frames, 2..%d; default size 256x128) and exports it.\n"
          "A clip's kind follows its seed (seed mod 4: time, weather, season, motion); --kind takes the first\n"
          "seed from N on whose clip is of that kind. The clip's caption and stages go into the metadata.\n"
          "Training data and evaluation only: these are the world's renders, not generated video.\n\n%s",
          DG_WORLD_MAX_FRAMES, DG_CLI_VIDEO_OPTIONS_HELP);
}

static bool parse_size(const char *s, int *w, int *h) {
  char *x = s ? strchr(s, 'x') : NULL;
  if (!x) return false;
  char *ws = strndup(s, (size_t)(x - s));
  long a, b;
  bool ok = ws && dg_cli_parse_long(ws, 16, 4096, &a) && dg_cli_parse_long(x + 1, 16, 4096, &b);
  free(ws);
  if (ok) *w = (int)a, *h = (int)b;
  return ok;
}

static char *clip_json(const dg_world_clip *c, int w, int h, double fps) {
  dg_json j;
  dg_json_init(&j);
  dg_json_add(&j,
              "{\"source\": \"world clip\", \"seed\": %llu, \"kind\": \"%s\", \"frames\": %d, \"fps\": %g, "
              "\"width\": %d, \"height\": %d, \"caption\": ",
              (unsigned long long)c->seed, dg_world_clip_names[c->kind], c->frames, fps, w, h);
  dg_json_str(&j, c->caption);
  dg_json_add(&j, ", \"stages\": [");
  for (int i = 0; i < c->n_stages; i++) {
    dg_json_add(&j, "%s{\"text\": ", i ? ", " : "");
    dg_json_str(&j, c->stages[i].text);
    dg_json_add(&j, ", \"start\": %d, \"end\": %d}", c->stages[i].start, c->stages[i].end);
  }
  dg_json_add(&j, "]}");
  return dg_json_finish(&j);
}

int dg_cli_world_clip(int argc, char **argv) {
  const char *cmd = "world clip", *format = NULL, *v[5] = {NULL};
  static const char *const names[] = {"--seed", "--frames", "--out", "--kind", "--size", NULL};
  dg_video_export_opts o = DG_VIDEO_EXPORT_DEFAULTS;
  int rc = dg_cli_video_args(cmd, argc, argv, names, v, &o, &format, usage);
  if (rc >= 0) return rc;
  const char *out = v[2];
  uint64_t seed = 0;
  long frames = 0;
  int kind = -1, w = 256, h = 128;
  if (v[0] && !dg_cli_parse_seed(cmd, v[0], &seed)) return 2;
  if (v[1] && !dg_cli_parse_long(v[1], 2, DG_WORLD_MAX_FRAMES, &frames)) {
    fprintf(stderr, "%s: --frames needs an integer in 2..%d, got '%s'\n", cmd, DG_WORLD_MAX_FRAMES, v[1]);
    return 2;
  }
  if (v[3]) {
    for (int k = 0; k < DG_CLIP_COUNT; k++)
      if (!strcmp(v[3], dg_world_clip_names[k])) kind = k;
    if (kind < 0) {
      fprintf(stderr, "%s: --kind must be time, weather, season or motion; got '%s'\n", cmd, v[3]);
      return 2;
    }
  }
  if (v[4] && !parse_size(v[4], &w, &h)) {
    fprintf(stderr, "%s: --size needs WxH with sides 16..4096, got '%s'\n", cmd, v[4]);
    return 2;
  }
  if (!v[0] || !frames || !out) {
    fprintf(stderr, "%s: --seed, --frames and --out are required\n", cmd);
    usage(stderr);
    return 2;
  }
  if (kind >= 0) {
    uint64_t step = (uint64_t)(kind - (int)(seed % DG_CLIP_COUNT) + DG_CLIP_COUNT) % DG_CLIP_COUNT;
    if (seed > UINT64_MAX - step) {
      fprintf(stderr, "%s: no %s clip from seed %llu on\n", cmd, dg_world_clip_names[kind], (unsigned long long)seed);
      return 2;
    }
    seed += step;
  }
  dg_cli_video_catch_interrupt();
  dg_world_clip *clip = malloc(sizeof *clip);
  dg_world_scene *scene = malloc(sizeof *scene);
  dg_media m = {0};
  uint8_t *label = malloc((size_t)w * h);
  dg_status s = clip && scene && label ? DG_OK : dg_fail(DG_ERR_OOM, "out of memory");
  if (s == DG_OK) s = dg_world_clip_plan(seed, w, h, (int)frames, clip);
  if (s == DG_OK) s = dg_media_alloc(&m, (int)frames, w, h, 3);
  for (int f = 0; f < frames && s == DG_OK; f++) {
    dg_world_clip_frame(clip, f, scene);
    s = dg_world_render_ex(scene, dg_media_frame(&m, f), label, NULL, false, false);
  }
  rc = 1;
  char *json = s == DG_OK ? clip_json(clip, w, h, o.fps) : NULL;
  if (s != DG_OK) {
    fprintf(stderr, "%s: %s\n", cmd, dg_last_error());
  } else {
    printf("clip %llu (%s): %s\n", (unsigned long long)seed, dg_world_clip_names[clip->kind], clip->caption);
    o.job_json = json;
    rc = dg_cli_video_write(cmd, out, format, &m, &o);
  }
  free(json);
  dg_media_clear(&m);
  free(label);
  free(scene);
  free(clip);
  return rc;
}
