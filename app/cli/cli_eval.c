// `dirigent-cli eval t2i|l2i`: the evaluation of the text-to-image and layout-to-image issues computed
// by the engine, with the definitions of tools/train/dgtrain/eval_models.py (docs/eval.md). For the first N
// samples of a world dataset split it generates an image from the sample's first caption (and, for l2i,
// its label map through the layout ControlNet), then measures it and the real image with the
// evaluation segmenter and the contrastive text-image model of the model folder (dg_eval_models); the
// report (dg_eval_report) goes to stdout as a table and optionally to a JSON file.
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dg_assets.h"
#include "dg_cli.h"
#include "dg_eval_models.h"
#include "dg_eval_report.h"
#include "dg_generate.h"
#include "dg_png.h"
#include "dg_settings.h"
#include "dg_world_index.h"

typedef struct options {
  const char *task, *split, *data, *control, *out, *images;
  int count;
  dg_cli_sampling s;
} options;

static void usage(FILE *f) {
  fprintf(f, "usage: dirigent-cli eval t2i|l2i --count N [options]\n"
             "       dirigent-cli eval marks [options]   (attention guidance; eval marks --help)\n"
             "       dirigent-cli eval video [options]   (VSTAR on video timelines; eval video --help)\n\n"
             "  t2i                 text-to-image: CLIP similarity, car-colour attribute accuracy and the\n"
             "                      Frechet distance of CLIP image features, generated vs real images\n"
             "  l2i                 layout-to-image: the same, and segmenter mIoU, per-class IoU and pixel\n"
             "                      accuracy against the input layouts\n"
             "  --count N           evaluate the first N samples of the split\n"
             "  --split NAME        dataset split (default test)\n"
             "  --data DIR          world dataset root holding SPLIT/index.jsonl (default data/world)\n"
             "  --model DIR         model folder with the generator and eval_segmenter + clip\n"
             "                      (default: the embedded assets/models)\n"
             "  --controlnet NAME   layout ControlNet of the folder for l2i (default aldm)\n"
             "  --steps N           sampling steps (default 25)\n"
             "  --cfg X             classifier-free guidance scale (default 7.5)\n"
             "  --control-scale X   the layout ControlNet's residual scale (default 1, as trained)\n"
             "  --seed S            image i uses seed S + i (default 0)\n"
             "  --sampler ddim|plms (default ddim)\n" DG_CLI_DECODER_HELP
             "  --out REPORT.json   also write the report as JSON\n"
             "  --images DIR        also write the generated images as PNG\n"
             "  --f16               f16 weights and activations\n"
             "  --quiet             no progress line\n");
}

static int parse(int argc, char **argv, options *o) {
  *o = (options){.split = "test", .data = "data/world", .s = DG_CLI_SAMPLING_DEFAULTS};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    }
    if (!strcmp(a, "t2i") || !strcmp(a, "l2i")) {
      o->task = a;
      continue;
    }
    if (dg_cli_sampling_flag(a, &o->s)) continue;
    if (i + 1 >= argc) {
      fprintf(stderr, "eval: %s needs a value (or is unknown)\n", a);
      return 2;
    }
    const char *v = argv[++i];
    int took = dg_cli_sampling_option("eval", a, v, &o->s);
    long n;
    if (took < 0) return 2;
    if (took) continue;
    if (!strcmp(a, "--split")) o->split = v;
    else if (!strcmp(a, "--data")) o->data = v;
    else if (!strcmp(a, "--controlnet")) o->control = v;
    else if (!strcmp(a, "--out")) o->out = v;
    else if (!strcmp(a, "--images")) o->images = v;
    else if (!strcmp(a, "--count") && dg_cli_parse_long(v, 1, 1000000, &n)) o->count = (int)n;
    else {
      fprintf(stderr, "eval: bad option or value: %s %s\n", a, v);
      return 2;
    }
  }
  if (!o->task || !o->count) {
    fprintf(stderr, "eval: t2i or l2i and --count N are required\n");
    usage(stderr);
    return 2;
  }
  return -1; // go on
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// The progress line: image i of n, its sampling step, time left.
typedef struct progress {
  int i, n;
  const char *id;
  double t0;
} progress;

static void show(const progress *p, int step, int total) {
  double el = now() - p->t0, done = p->i + (total ? (double)step / total : 0), left = done > 0 ? el / done * (p->n - done) : 0;
  fprintf(stderr, "\r\033[Keval %d/%d %s  step %d/%d  %.0f s, %.0f s left", p->i + 1, p->n, p->id, step, total, el,
          left);
}

static void on_step(void *user, int step, int total, const uint8_t *rgb, int w, int h) {
  (void)rgb, (void)w, (void)h;
  show(user, step + 1, total);
}

typedef struct eval_ctx {
  const options *o;
  dg_model_set *gen;
  dg_eval_models *ev;
  dg_eval_report *report;
  dg_eval_colours colours;
  float *emb_text, *emb, *feat;
  dg_palette *world; // the labels' palette, for dg_layout_read_file
} eval_ctx;

static dg_status save_image(const char *dir, const char *id, const uint8_t *rgb, int w, int h) {
  char *name = g_strdup_printf("%s.png", id), *path = g_build_filename(dir, name, NULL);
  dg_status s = dg_png_write_rgb8(path, w, h, rgb, NULL);
  g_free(name);
  g_free(path);
  return s;
}

// Measures one image (generated or real) of a sample: CLIP similarity to the caption and features,
// segmenter classes, the car-colour share and, for l2i, the confusion against the layout.
static dg_status measure(eval_ctx *c, const uint8_t *rgb, int w, int h, const uint8_t *layout, bool generated,
                         dg_eval_item *it) {
  dg_eval_report *r = c->report;
  int64_t n = (int64_t)w * h;
  uint8_t *cls = malloc((size_t)n);
  dg_status s = cls ? DG_OK : dg_fail(DG_ERR_OOM, "out of host memory");
  if (s == DG_OK) s = dg_eval_embed_image(c->ev, rgb, w, h, c->feat, c->emb);
  if (s == DG_OK) s = dg_eval_segment(c->ev, rgb, w, h, cls);
  if (s == DG_OK) {
    float sim = dg_eval_similarity(c->emb_text, c->emb, dg_eval_models_embed_dim(c->ev));
    dg_eval_moments_add(generated ? &r->feat_generated : &r->feat_real, c->feat);
    double share = it->attr == DG_ATTR_NONE ? -1 : dg_eval_attr_share(&c->colours, rgb, cls, n, it->attr);
    if (generated) it->sim_generated = sim, it->share_generated = share;
    else it->sim_real = sim, it->share_real = share;
    if (layout) {
      int64_t conf[DG_EVAL_K * DG_EVAL_K] = {0};
      double iou[DG_EVAL_K], acc, *miou = generated ? &it->miou_generated : &it->miou_real;
      int64_t *total = generated ? r->conf_generated : r->conf_real;
      dg_eval_confusion_add(conf, DG_EVAL_K, layout, cls, n, DG_WORLD_UNLABELLED);
      dg_eval_iou(conf, DG_EVAL_K, iou, miou, &acc);
      for (int j = 0; j < DG_EVAL_K * DG_EVAL_K; j++)
        total[j] += conf[j];
    }
  }
  free(cls);
  return s;
}

// One sample: generate from its first caption (and layout), then measure the generated and the real image.
static dg_status eval_one(eval_ctx *c, const dg_world_index_entry *e, int i, progress *pg) {
  const options *o = c->o;
  bool l2i = !strcmp(o->task, "l2i");
  if (!e->n_captions) return dg_fail(DG_ERR_FORMAT, "%s: sample %s has no caption", o->data, e->id);
  const dg_world_index_caption *cap = &e->captions[0];
  int w = e->width, h = e->height, rw = 0, rh = 0;
  uint8_t *layout = NULL, *real = NULL, *gen = malloc((size_t)w * h * 3);
  dg_status s = gen ? DG_OK : dg_fail(DG_ERR_OOM, "out of host memory");
  dg_png_limits size = {w, h, DG_GENERATE_MAX_SIDE}; // the index's size, checked from the header
  if (s == DG_OK) s = dg_png_read_rgb8_limited(e->image, &size, &rw, &rh, &real);
  if (s == DG_OK && l2i) s = dg_layout_read_file(e->label, c->world, &size, &w, &h, &layout, NULL);
  dg_eval_item *it = s == DG_OK ? dg_eval_report_add(c->report, e->id, cap->text, o->s.seed + (uint64_t)i) : NULL;
  if (it) it->attr = dg_eval_attr_wanted(cap);
  if (s == DG_OK) {
    uint8_t colors[DG_WORLD_NUM_CLASSES][3];
    for (int k = 0; k < DG_WORLD_NUM_CLASSES; k++)
      memcpy(colors[k], dg_world_classes[k].rgb, 3);
    dg_generate_params p = {.prompt = cap->text, .negative = "", .width = w, .height = h, .steps = o->s.steps,
                            .cfg = (float)o->s.cfg, .control_scale = (float)o->s.control_scale, .seed = it->seed,
                            .sampler = !strcmp(o->s.sampler, "plms") ? DG_SAMPLER_PLMS : DG_SAMPLER_DDIM,
                            .layout = layout, .palette = (const uint8_t(*)[3])colors,
                            .n_classes = DG_WORLD_NUM_CLASSES, .on_step = pg ? on_step : NULL, .user = pg,
                            .fast_decode = o->s.tiny_decoder};
    s = dg_generate(c->gen, &p, gen);
  }
  if (s == DG_OK && o->images) s = save_image(o->images, e->id, gen, w, h);
  if (s == DG_OK) s = dg_eval_embed_text(c->ev, cap->text, c->emb_text);
  if (s == DG_OK) s = measure(c, gen, w, h, layout, true, it);
  if (s == DG_OK) s = measure(c, real, w, h, layout, false, it);
  free(layout), free(real), free(gen);
  return s;
}

// The task: the first argument that is neither an option nor an option's value.
static const char *task_of(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2)) return a;
    if (strcmp(a, "--help") && strcmp(a, "--f16") && strcmp(a, "--quiet")) i++;
  }
  return NULL;
}

int dg_cli_eval(int argc, char **argv) {
  const char *task = task_of(argc, argv);
  if (task && !strcmp(task, "marks")) return dg_cli_eval_marks(argc, argv);
  if (task && !strcmp(task, "video")) return dg_cli_eval_video(argc, argv);
  options o;
  int rc = parse(argc, argv, &o);
  if (rc >= 0) return rc;
  char *model = o.s.model ? g_strdup(o.s.model) : dg_assets_path("models");
  char *tokenizer = dg_assets_path("tokenizer"), *split_dir = g_build_filename(o.data, o.split, NULL);
  bool l2i = !strcmp(o.task, "l2i");
  dg_world_index ix = {0};
  dg_device *dev = NULL;
  dg_model_set *gen = NULL;
  dg_eval_models *ev = NULL;
  dg_eval_report report = {0};
  eval_ctx c = {.o = &o, .report = &report};
  dg_status s;
  c.world = dg_palette_load_named("world", &s);
  if (c.world) s = dg_world_index_load(split_dir, 0, &ix); // all of it: the colour centroids use every sample
  if (s == DG_OK && ix.n < o.count)
    s = dg_fail(DG_ERR_ARG, "%s/index.jsonl has %d samples, fewer than --count %d", split_dir, ix.n, o.count);
  char *text = g_build_filename(model, "text_encoder.safetensors", NULL);
  if (s == DG_OK && !g_file_test(text, G_FILE_TEST_IS_REGULAR))
    s = dg_fail(DG_ERR_IO, "no %s: not a Dirigent model folder (train one with tools/train/train_defaults.sh)", text);
  g_free(text);
  // Outputs and sizes are checked before any model is loaded, so a bad path does not cost the run.
  if (s == DG_OK && o.out) s = dg_settings_check_output("--out", o.out);
  if (s == DG_OK && o.images) s = dg_settings_check_output_dir("--images", o.images);
  if (s == DG_OK) s = dg_device_open(NULL, &dev);
  dg_model_options mo = {.control = o.control, .default_tokenizer_dir = tokenizer, .dtype = o.s.f16 ? DG_F16 : DG_F32,
                         .image_only = true};
  for (int i = 0; s == DG_OK && i < o.count; i++)
    if (!i || ix.entries[i].width != ix.entries[i - 1].width || ix.entries[i].height != ix.entries[i - 1].height)
      s = dg_settings_check_size(model, &mo, dev, ix.entries[i].width, ix.entries[i].height);
  if (s == DG_OK) s = dg_model_set_open(dev, model, &mo, &gen);
  if (s == DG_OK) s = dg_cli_check_decoder(&o.s, gen, model);
  if (s == DG_OK && l2i && !dg_model_set_has_control(gen))
    s = dg_fail(DG_ERR_ARG, "l2i needs a layout ControlNet, and %s has none (controlnet_%s.safetensors)", model,
                o.control ? o.control : "aldm");
  if (s == DG_OK) s = dg_eval_models_open(dev, model, tokenizer, mo.dtype, &ev);
  if (s == DG_OK && dg_eval_models_classes(ev) != DG_EVAL_K)
    s = dg_fail(DG_ERR_FORMAT, "%s/eval_segmenter.safetensors has %d classes, the world %d", model,
                dg_eval_models_classes(ev), DG_WORLD_NUM_CLASSES);
  dg_eval_settings settings = {.task = o.task, .split = o.split, .data = o.data, .model = model,
                               .controlnet = l2i ? (o.control ? o.control : "aldm") : NULL,
                               .sampler = !strcmp(o.s.sampler, "plms") ? "PLMS" : "DDIM", .count = o.count,
                               .steps = o.s.steps, .cfg = o.s.cfg, .seed = o.s.seed,
                               .decoder = o.s.tiny_decoder ? "tiny" : NULL};
  if (s == DG_OK) s = dg_eval_report_init(&report, &settings, dg_eval_models_feature_dim(ev));
  if (s == DG_OK) s = dg_eval_colours_from_dataset(&ix, &c.colours);
  if (s == DG_OK) {
    int d = dg_eval_models_embed_dim(ev);
    c.gen = gen, c.ev = ev;
    c.emb_text = malloc((size_t)d * sizeof(float)), c.emb = malloc((size_t)d * sizeof(float));
    c.feat = malloc((size_t)dg_eval_models_feature_dim(ev) * sizeof(float));
    if (!c.emb_text || !c.emb || !c.feat) s = dg_fail(DG_ERR_OOM, "out of host memory");
  }
  bool tty = !o.s.quiet && isatty(2);
  double t0 = now();
  progress pg = {.n = o.count, .t0 = t0};
  for (int i = 0; s == DG_OK && i < o.count; i++) {
    pg.i = i;
    pg.id = ix.entries[i].id;
    if (tty) show(&pg, 0, o.s.steps);
    s = eval_one(&c, &ix.entries[i], i, tty ? &pg : NULL);
  }
  if (tty) fprintf(stderr, "\r\033[K");
  report.seconds = now() - t0;
  if (s == DG_OK) {
    dg_eval_report_print(&report, stdout);
    if (o.out) s = dg_eval_report_write_json(&report, o.out);
    if (s == DG_OK && o.out) printf("wrote %s\n", o.out);
  }
  if (s != DG_OK) fprintf(stderr, "dirigent-cli eval: %s\n", dg_last_error());
  free(c.emb_text), free(c.emb), free(c.feat);
  dg_palette_free(c.world);
  dg_eval_report_free(&report);
  dg_eval_models_close(ev);
  dg_model_set_close(gen);
  dg_device_close(dev);
  dg_world_index_free(&ix);
  g_free(model);
  g_free(tokenizer);
  g_free(split_dir);
  return s == DG_OK ? 0 : 1;
}
