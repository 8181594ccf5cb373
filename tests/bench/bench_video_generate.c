// dirigent-bench-video-generate: seconds for the video task (dg_video_generate: VSP over two stages, TAR as
// the CLI's default, CFG 7.5, DDIM eta 1) per case FRAMESxSTEPS, with the seconds per step and the process's
// peak resident memory after each case. Default: the embedded model with its folder's video_unet.safetensors
// (or --video-unet FILE, e.g. tools/train/dgtrain/inflate_video.py's), 256x128, cases 16x25 and 64x2 (the
// issue's floor: 64 frames x 25 steps in 4 minutes). One run per case: each takes minutes on a CPU.
// --profile: the GPU time per op of each case (timestamps cost a little time themselves).
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "dg_assets.h"
#include "dg_bench_util.h"
#include "dg_video.h"

static void usage(FILE *f) {
  fprintf(f, "usage: dirigent-bench-video-generate [--model DIR|FILE] [--video-unet FILE] [--size WxH]\n"
             "                                     [--cases 16x25,64x2] [--f16] [--profile]\n");
}

int main(int argc, char **argv) {
  const char *model_arg = NULL, *video = NULL, *cases = "16x25,64x2";
  int w = 256, h = 128;
  bool f16 = false, profile = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help")) return usage(stdout), 0;
    if (!strcmp(a, "--f16")) {
      f16 = true;
      continue;
    }
    if (!strcmp(a, "--profile")) {
      profile = true;
      continue;
    }
    if (!v) return usage(stderr), 2;
    if (!strcmp(a, "--model")) model_arg = v;
    else if (!strcmp(a, "--video-unet")) video = v;
    else if (!strcmp(a, "--cases")) cases = v;
    else if (!strcmp(a, "--size") && sscanf(v, "%dx%d", &w, &h) == 2) {
    } else return usage(stderr), 2;
    i++;
  }
  char *model = model_arg ? g_strdup(model_arg) : dg_assets_path("models"), *tokenizer = dg_assets_path("tokenizer");
  dg_model_options mo = {.video_unet = video, .default_tokenizer_dir = tokenizer, .dtype = f16 ? DG_F16 : DG_F32};
  dg_device *dev = NULL;
  dg_model_set *m = NULL;
  double t0 = dg_bench_now();
  dg_device_options dopt = {.timestamps = profile};
  dg_status s = dg_device_open(&dopt, &dev);
  if (s == DG_OK) s = dg_model_set_open(dev, model, &mo, &m);
  if (s != DG_OK) return fprintf(stderr, "dirigent-bench-video-generate: %s\n", dg_last_error()), 1;
  printf("%s", dg_model_set_describe(m));
  printf("loaded in %.1f s; %dx%d, %s, CFG 7.5, DDIM eta 1, VSP linear over 2 stages\n", dg_bench_now() - t0, w, h,
         f16 ? "f16" : "f32");
  dg_video_stage stages[2] = {{-1, "a street on a clear summer day"}, {-1, "a street at night"}};
  gchar **list = g_strsplit(cases, ",", -1);
  for (int c = 0; list[c] && s == DG_OK; c++) {
    int frames, steps;
    if (sscanf(list[c], "%dx%d", &frames, &steps) != 2) {
      fprintf(stderr, "dirigent-bench-video-generate: case '%s' is not FRAMESxSTEPS\n", list[c]);
      s = DG_ERR_ARG;
      break;
    }
    dg_tar tar;
    s = dg_video_tar_default(m, w, frames, (steps * 13 + 12) / 25, &tar);
    if (s != DG_OK) {
      fprintf(stderr, "dirigent-bench-video-generate: %s\n", dg_last_error());
      break;
    }
    uint8_t *rgb = malloc((size_t)frames * w * h * 3);
    dg_video_params p = {.stages = stages, .n_stages = 2, .frames = frames, .fps = 8, .width = w, .height = h,
                         .steps = steps, .cfg = 7.5f, .eta = 1.0f, .seed = 1, .vsp = DG_VSP_LINEAR, .tar = &tar,
                         .capture_layer = -1};
    dg_stream_profile_reset(dg_model_set_stream(m));
    double t = dg_bench_now();
    s = rgb ? dg_video_generate(m, &p, rgb) : DG_ERR_OOM;
    double secs = dg_bench_now() - t;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (s == DG_OK)
      printf("%d frames x %d steps: %.1f s (%.2f s per step incl. decode), peak RSS %.0f MiB\n", frames, steps, secs,
             secs / steps, ru.ru_maxrss / 1024.0);
    else fprintf(stderr, "dirigent-bench-video-generate: %s\n", dg_last_error());
    if (s == DG_OK && profile) dg_stream_profile_print(dg_model_set_stream(m), stdout);
    free(rgb);
  }
  g_strfreev(list);
  dg_model_set_close(m);
  dg_device_close(dev);
  g_free(model), g_free(tokenizer);
  return s == DG_OK ? 0 : 1;
}
