#include "dg_generate.h"

#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_clip_text.h"
#include "dg_controlnet.h"
#include "dg_json.h"
#include "dg_tokenizer.h"
#include "dg_vae.h"

struct dg_model_set {
  dg_device *device;
  dg_dtype dtype;
  dg_arena *weights, *scratch;
  dg_stream *stream;
  dg_weights *stores[4]; // text encoder, unet, vae, control (may repeat one store)
  int n_stores;
  dg_tokenizer *tok;
  dg_clip_text clip;
  dg_unet unet;
  dg_vae vae;
  dg_controlnet control;
  bool has_control;
  float *class_table; // ALDM id hint: [classes + 1, dim], null embedding last
  int table_classes, table_dim;
  float scale_factor;
  int factor;
  char description[2048];
};

// ---- configuration from the exported files' metadata ------------------------------------------

// A number from the JSON object in the store's metadata "config" (def when absent).
static double config_number(const dg_weights *w, const char *key, double def) {
  const char *cfg = w ? dg_weights_metadata(w, "config") : NULL;
  dg_json *doc;
  if (!cfg || dg_json_parse(cfg, strlen(cfg), "config", 0, 0, &doc) != DG_OK) return def;
  const dg_json_value *v = dg_json_get(dg_json_root(doc), key);
  double r = v && v->type == DG_JSON_NUMBER ? v->number : def;
  dg_json_free(doc);
  return r;
}

static dg_unet_heads unet_heads(const dg_weights *w) {
  // SD 1.x: 8 heads everywhere (not recorded in the weights); our exports record theirs.
  return (dg_unet_heads){(int)config_number(w, "num_heads", 8), (int)config_number(w, "num_head_channels", -1)};
}

// ---- opening -------------------------------------------------------------------------------------

static dg_status open_store(dg_model_set *m, const char *path, dg_weights **out) {
  if (m->n_stores == 4) return dg_fail(DG_ERR_ARG, "model: too many files");
  DG_TRY(dg_weights_open(path, out));
  m->stores[m->n_stores++] = *out;
  return DG_OK;
}

static bool is_file(const char *path) { return g_file_test(path, G_FILE_TEST_IS_REGULAR); }

static void describe(dg_model_set *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void describe(dg_model_set *m, const char *fmt, ...) {
  size_t used = strlen(m->description);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->description + used, sizeof m->description - used, fmt, ap);
  va_end(ap);
}

static dg_status load_class_table(dg_model_set *m, const dg_weights *w) {
  const dg_weight *t = dg_weights_find(w, "dirigent.class_embeddings");
  if (!t) return dg_fail(DG_ERR_FORMAT, "ControlNet with an id hint but no 'dirigent.class_embeddings' table");
  if (t->ndim != 2 || t->shape[0] < 2) return dg_fail(DG_ERR_FORMAT, "class embedding table has a bad shape");
  m->table_classes = (int)t->shape[0] - 1;
  m->table_dim = (int)t->shape[1];
  m->class_table = malloc((size_t)t->numel * sizeof(float));
  if (!m->class_table) return dg_fail(DG_ERR_OOM, "out of host memory");
  return dg_weights_read(w, t, DG_F32, m->class_table, (size_t)t->numel * sizeof(float));
}

// The tokenizer folder for `model`: the option, tokenizer/ of a diffusers folder, tokenizer/ beside the
// model, else the default. NULL when there is none; *owned is set when the result must be g_free'd.
static const char *tokenizer_dir_for(const char *model, const dg_model_options *o, const dg_weights *text,
                                     char **owned) {
  *owned = NULL;
  if (o->tokenizer_dir) return o->tokenizer_dir;
  if (dg_weights_tokenizer_dir(text)) return dg_weights_tokenizer_dir(text);
  char *parent = g_file_test(model, G_FILE_TEST_IS_DIR) ? g_strdup(model) : g_path_get_dirname(model);
  char *beside = g_build_filename(parent, "tokenizer", NULL), *vocab = g_build_filename(beside, "vocab.json", NULL);
  g_free(parent);
  if (is_file(vocab)) *owned = beside;
  else g_free(beside);
  g_free(vocab);
  return *owned ? *owned : o->default_tokenizer_dir;
}

static dg_status no_tokenizer(const char *model) {
  return dg_fail(DG_ERR_ARG, "model %s: no tokenizer found (tokenizer/ with vocab.json and merges.txt)", model);
}

static dg_status find_tokenizer(dg_model_set *m, const char *model, const dg_model_options *o, const dg_weights *text) {
  char *owned;
  const char *dir = tokenizer_dir_for(model, o, text, &owned);
  dg_status s = dir ? dg_tokenizer_load(dir, &m->tok) : no_tokenizer(model);
  if (s == DG_OK) describe(m, "tokenizer: %d tokens (%s)\n", dg_tokenizer_vocab_size(m->tok), dir);
  g_free(owned);
  return s;
}

// A Dirigent model folder's files: text encoder, UNet, VAE and the ControlNet `control` (default
// "aldm"; paths[3] NULL when that file is absent). False, with nothing allocated, when `model` is no
// such folder. g_free each path.
static bool folder_files(const char *model, const char *control, char *paths[4]) {
  char *text = g_build_filename(model, "text_encoder.safetensors", NULL);
  if (!is_file(text)) {
    g_free(text);
    return false;
  }
  paths[0] = text;
  paths[1] = g_build_filename(model, "unet.safetensors", NULL);
  paths[2] = g_build_filename(model, "vae.safetensors", NULL);
  char *name = g_strdup_printf("controlnet_%s.safetensors", control ? control : "aldm");
  paths[3] = g_build_filename(model, name, NULL);
  g_free(name);
  if (!is_file(paths[3])) g_clear_pointer(&paths[3], g_free);
  return true;
}

static dg_status no_control(const char *model, const char *control) {
  return dg_fail(DG_ERR_ARG, "model %s has no controlnet_%s.safetensors", model, control);
}

dg_status dg_model_set_open(dg_device *device, const char *model, const dg_model_options *opt, dg_model_set **out) {
  *out = NULL;
  dg_model_options o = opt ? *opt : (dg_model_options){0};
  dg_model_set *m = calloc(1, sizeof *m);
  if (!m) return dg_fail(DG_ERR_OOM, "out of host memory");
  m->device = device;
  m->dtype = o.dtype;
  dg_status s = dg_arena_create(device, 0, &m->weights);
  if (s == DG_OK) s = dg_arena_create(device, 0, &m->scratch);
  if (s == DG_OK) s = dg_stream_create(device, 0, &m->stream);

  // Which store holds which part.
  dg_weights *text = NULL, *unet = NULL, *vae = NULL, *control = NULL;
  char *files[4] = {0};
  bool dirigent_folder = folder_files(model, o.control, files);
  if (s == DG_OK && dirigent_folder) {
    s = open_store(m, files[0], &text);
    if (s == DG_OK) s = open_store(m, files[1], &unet);
    if (s == DG_OK) s = open_store(m, files[2], &vae);
    if (s == DG_OK && files[3]) s = open_store(m, files[3], &control);
    else if (s == DG_OK && o.control) s = no_control(model, o.control);
  } else if (s == DG_OK) {
    dg_weights *w;
    s = open_store(m, model, &w);
    text = unet = vae = w;
    if (s == DG_OK && dg_weights_has_prefix(w, DG_LDM_CONTROL)) control = w;
    if (s == DG_OK && o.control) s = open_store(m, o.control, &control);
  }
  for (int i = 0; i < 4; i++)
    g_free(files[i]);

  if (s == DG_OK) s = find_tokenizer(m, model, &o, text);
  dg_nn_src src = {text, m->weights, m->dtype};
  if (s == DG_OK) {
    int heads = (int)config_number(text, "heads", 0);
    if (!heads) { // SD 1.5's CLIP ViT-L/14 text tower: 12 heads of 64
      const dg_weight *ln = dg_weights_find(text, DG_LDM_CLIP "text_model.final_layer_norm.weight");
      heads = ln ? (int)(ln->shape[0] / 64) : 12;
    }
    s = dg_clip_text_load(&src, heads, &m->clip);
  }
  if (s == DG_OK) {
    src.w = unet;
    s = dg_unet_load(&src, unet_heads(unet), &m->unet);
  }
  if (s == DG_OK) {
    src.w = vae;
    s = dg_vae_load(&src, &m->vae);
    m->scale_factor = (float)config_number(vae, "scale_factor", 0.18215);
    m->factor = 1 << (m->vae.cfg.num_levels - 1);
  }
  if (s == DG_OK && control) {
    src.w = control;
    s = dg_controlnet_load(&src, unet_heads(control), &m->control);
    m->has_control = s == DG_OK;
    if (s == DG_OK && m->control.id_hint) s = load_class_table(m, control);
  }
  if (s == DG_OK) {
    const dg_unet_config *u = &m->unet.enc.cfg;
    describe(m, "text encoder: %d layers, width %d (%s)\n", m->clip.cfg.layers, m->clip.cfg.width,
             dg_weights_layout(text));
    describe(m, "unet: %d levels, %d channels, context %d (%s)\n", u->num_levels, u->model_channels, u->context_dim,
             dg_weights_layout(unet));
    describe(m, "vae: %d levels, latent factor %d, scale %.5f (%s)\n", m->vae.cfg.num_levels, m->factor,
             m->scale_factor, dg_weights_layout(vae));
    if (m->has_control)
      describe(m, "controlnet: %s hint%s (%s)\n", m->control.id_hint ? "class-embedding (ALDM)" : "colour",
               m->control.id_hint ? "" : "", dg_weights_layout(control));
  }
  if (s != DG_OK) {
    dg_model_set_close(m);
    return s;
  }
  *out = m;
  return DG_OK;
}

dg_stream *dg_model_set_stream(dg_model_set *m) { return m->stream; }

void dg_model_set_close(dg_model_set *m) {
  if (!m) return;
  dg_stream_destroy(m->stream);
  dg_arena_destroy(m->scratch);
  dg_arena_destroy(m->weights);
  for (int i = 0; i < m->n_stores; i++) dg_weights_close(m->stores[i]);
  dg_tokenizer_free(m->tok);
  free(m->class_table);
  free(m);
}

// ---- checking without a device ---------------------------------------------------------------------

// Fails naming `path` unless its detected models include `part` (a VAE must have a decoder).
static dg_status need_part(const char *path, const dg_model_info *info, unsigned part, const char *what) {
  bool ok = (info->parts & part) && (part != DG_PART_VAE || info->vae.has_decoder);
  return ok ? DG_OK : dg_fail(DG_ERR_UNSUPPORTED, "%s: no %s in it (found %s)", path, what, info->description);
}

// Opens `path`, detects its models and requires `parts` (dg_model_part bits) among them.
static dg_status check_store(const char *path, unsigned parts, dg_weights **out, dg_model_info *info) {
  DG_TRY(dg_weights_open(path, out));
  dg_status s = dg_weights_detect(*out, info);
  if (s == DG_OK && (parts & DG_PART_CLIP_TEXT)) s = need_part(path, info, DG_PART_CLIP_TEXT, "CLIP text encoder");
  if (s == DG_OK && (parts & DG_PART_UNET)) s = need_part(path, info, DG_PART_UNET, "image UNet");
  if (s == DG_OK && (parts & DG_PART_VAE)) s = need_part(path, info, DG_PART_VAE, "VAE decoder");
  if (s == DG_OK && (parts & DG_PART_CONTROLNET)) s = need_part(path, info, DG_PART_CONTROLNET, "ControlNet");
  if (s == DG_OK && (parts & DG_PART_CONTROLNET) && info->control.id_hint &&
      !dg_weights_find(*out, "dirigent.class_embeddings"))
    s = dg_fail(DG_ERR_FORMAT, "%s: ControlNet with an id hint but no 'dirigent.class_embeddings' table", path);
  return s;
}

dg_status dg_model_set_check(const char *model, const dg_model_options *opt, char *kind, size_t kind_size) {
  dg_model_options o = opt ? *opt : (dg_model_options){0};
  if (!model || !*model) return dg_fail(DG_ERR_ARG, "model: no path given");
  char *files[4] = {0};
  dg_weights *w[4] = {0};
  dg_model_info info[4];
  const char *layout = "";
  dg_status s = DG_OK;
  if (folder_files(model, o.control, files)) {
    const unsigned parts[4] = {DG_PART_CLIP_TEXT, DG_PART_UNET, DG_PART_VAE, DG_PART_CONTROLNET};
    for (int i = 0; i < 4 && s == DG_OK; i++)
      if (files[i]) s = check_store(files[i], parts[i], &w[i], &info[i]);
    if (s == DG_OK && !files[3] && o.control) s = no_control(model, o.control);
    layout = "Dirigent model folder";
  } else {
    s = check_store(model, DG_PART_CLIP_TEXT | DG_PART_UNET | DG_PART_VAE, &w[0], &info[0]);
    info[1] = info[2] = info[0];
    if (s == DG_OK && o.control) s = check_store(o.control, DG_PART_CONTROLNET, &w[3], &info[3]);
    else if (s == DG_OK && (info[0].parts & DG_PART_CONTROLNET)) info[3] = info[0], files[3] = g_strdup(model);
    if (s == DG_OK) layout = dg_weights_layout(w[0]);
  }
  if (s == DG_OK) {
    char *owned;
    const char *dir = tokenizer_dir_for(model, &o, w[0], &owned);
    dg_tokenizer *tok = NULL;
    s = dir ? dg_tokenizer_load(dir, &tok) : no_tokenizer(model);
    dg_tokenizer_free(tok);
    g_free(owned);
  }
  if (s == DG_OK && kind && kind_size) {
    const dg_unet_config *u = &info[1].unet;
    const char *family = u->context_dim == 768 && !u->linear_proj ? " (SD 1.x)"
                         : u->context_dim == 1024 && u->linear_proj ? " (SD 2.x)"
                                                                    : "";
    const char *control = !files[3] && !o.control       ? ""
                          : info[3].control.id_hint     ? ", ALDM layout ControlNet"
                                                        : ", colour layout ControlNet";
    snprintf(kind, kind_size, "%s%s: text encoder, UNet, VAE%s", layout, family, control);
  }
  for (int i = 0; i < 4; i++) {
    if (w[i]) dg_weights_close(w[i]);
    g_free(files[i]);
  }
  return s;
}

const char *dg_model_set_describe(const dg_model_set *m) { return m->description; }
bool dg_model_set_has_control(const dg_model_set *m) { return m->has_control; }
int dg_model_set_latent_factor(const dg_model_set *m) { return m->factor; }

// ---- generation ------------------------------------------------------------------------------------

static dg_status encode_prompt(dg_model_set *m, const dg_nn *nn, const char *prompt, dg_tensor *context) {
  int32_t ids[DG_TOKENS_MAX];
  DG_TRY(dg_tokenizer_encode(m->tok, prompt ? prompt : "", DG_TOKENS_MAX, ids, NULL, NULL));
  int len = m->clip.cfg.max_positions < DG_TOKENS_MAX ? m->clip.cfg.max_positions : DG_TOKENS_MAX;
  return dg_clip_text_forward(nn, &m->clip, ids, 1, len, 0, context);
}

// The ControlNet hint for a layout: ALDM class embeddings at 2x latent resolution, or palette colours
// at image resolution.
static dg_status layout_hint(dg_model_set *m, const dg_nn *nn, const dg_generate_params *p, int lh, int lw,
                             dg_tensor *hint) {
  if (m->control.id_hint) {
    int h = 2 * lh, w = 2 * lw, d = m->table_dim;
    int32_t *label = malloc((size_t)p->width * p->height * sizeof *label);
    float *v = malloc((size_t)d * h * w * sizeof *v);
    if (!label || !v) {
      free(label), free(v);
      return dg_fail(DG_ERR_OOM, "out of host memory");
    }
    for (int i = 0; i < p->width * p->height; i++) label[i] = p->layout[i]; // 255 is beyond the classes: null
    dg_controlnet_id_hint(label, p->height, p->width, m->class_table, m->table_classes, d, h, w, v);
    int64_t shape[4] = {1, d, h, w};
    dg_status s = dg_nn_alloc(nn, 4, shape, hint);
    if (s == DG_OK) dg_tensor_write_f32(hint, v);
    free(label), free(v);
    return s;
  }
  if (!p->palette) return dg_fail(DG_ERR_ARG, "generate: a colour-hint ControlNet needs the class palette");
  int64_t n = (int64_t)p->width * p->height, shape[4] = {1, 3, p->height, p->width};
  float *v = malloc((size_t)(3 * n) * sizeof *v);
  if (!v) return dg_fail(DG_ERR_OOM, "out of host memory");
  for (int64_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++)
      v[c * n + i] = p->layout[i] < p->n_classes ? p->palette[p->layout[i]][c] / 255.0f : 0.0f;
  dg_status s = dg_nn_alloc(nn, 4, shape, hint);
  if (s == DG_OK) dg_tensor_write_f32(hint, v);
  free(v);
  return s;
}

typedef struct step_ctx {
  const dg_generate_params *p;
  int lh, lw;
  float scale;
  uint8_t *rgb;
} step_ctx;

static void on_step(void *user, int step, int total, const float *x, const float *pred_x0) {
  (void)x;
  step_ctx *c = user;
  if (!c->p->on_step) return;
  (void)c->scale; // the preview map expects scaled latents, which pred_x0 is
  dg_sampler_preview_rgb(pred_x0, c->lh, c->lw, c->rgb);
  c->p->on_step(c->p->user, step, total, c->rgb, c->lw, c->lh);
}

dg_status dg_generate(dg_model_set *m, const dg_generate_params *p, uint8_t *rgb) {
  int f = m->factor;
  if (p->width < f || p->height < f || p->width % f || p->height % f || p->width > DG_GENERATE_MAX_SIDE ||
      p->height > DG_GENERATE_MAX_SIDE)
    return dg_fail(DG_ERR_ARG, "image size %dx%d must be a multiple of %d up to %d", p->width, p->height, f,
                   DG_GENERATE_MAX_SIDE);
  if (p->steps < 1 || p->steps > 1000) return dg_fail(DG_ERR_ARG, "generate: %d steps (1..1000)", p->steps);
  if (!(p->cfg >= 0 && p->cfg <= 100)) return dg_fail(DG_ERR_ARG, "generate: guidance %g outside 0..100", p->cfg);
  if (p->layout && !m->has_control)
    return dg_fail(DG_ERR_ARG, "generate: a layout needs a layout ControlNet, and this model has none");
  int lh = p->height / f, lw = p->width / f;
  dg_arena_mark mark = dg_arena_get_mark(m->scratch);
  dg_stream_set_cancel(m->stream, p->cancel);
  dg_nn nn = {m->stream, m->scratch, m->dtype};
  dg_tensor cond, uncond, hint;
  dg_guided g = {0};
  step_ctx sc = {p, lh, lw, m->scale_factor, malloc((size_t)lh * lw * 3)};
  int64_t latent = (int64_t)m->unet.enc.cfg.in_channels * lh * lw;
  float *x = malloc((size_t)latent * sizeof *x);
  dg_status s = sc.rgb && x ? DG_OK : dg_fail(DG_ERR_OOM, "out of host memory");
  if (s == DG_OK) s = encode_prompt(m, &nn, p->prompt, &cond);
  if (s == DG_OK) s = encode_prompt(m, &nn, p->negative, &uncond);
  if (s == DG_OK && p->layout) s = layout_hint(m, &nn, p, lh, lw, &hint);
  int64_t shape[4] = {1, m->unet.enc.cfg.in_channels, lh, lw};
  if (s == DG_OK)
    s = dg_guided_init(&g, &nn, &m->unet, p->layout ? &m->control : NULL, &cond, &uncond, p->layout ? &hint : NULL,
                       p->cfg, p->control_scale > 0 ? p->control_scale : 1.0f, shape);
  dg_sampler_opts o = {.kind = p->sampler, .steps = p->steps, .eta = p->eta, .seed = p->seed,
                       .shape = {shape[0], shape[1], shape[2], shape[3]}, .on_step = on_step, .step_user = &sc};
  if (s == DG_OK) s = dg_sample(&o, dg_guided_eps, &g, x);
  // Decode: z = latent / scale_factor.
  dg_tensor z, image;
  if (s == DG_OK) {
    for (int64_t i = 0; i < latent; i++) x[i] /= m->scale_factor;
    s = dg_nn_alloc(&nn, 4, shape, &z);
  }
  if (s == DG_OK) {
    dg_tensor_write_f32(&z, x);
    s = dg_vae_decode(&nn, &m->vae, &z, &image);
  }
  if (s == DG_OK) s = dg_stream_finish(m->stream);
  if (s == DG_OK) {
    int64_t n = (int64_t)p->width * p->height;
    float *img = malloc((size_t)(3 * n) * sizeof *img);
    if (!img) s = dg_fail(DG_ERR_OOM, "out of host memory");
    else {
      dg_tensor_read_f32(&image, img);
      for (int64_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) {
          float v = (img[c * n + i] + 1.0f) * 127.5f;
          rgb[i * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f);
        }
      free(img);
    }
  }
  if (s != DG_OK && s != DG_ERR_CANCELLED) dg_stream_finish(m->stream);
  dg_guided_free(&g);
  dg_stream_set_cancel(m->stream, NULL);
  dg_arena_release(m->scratch, mark);
  free(sc.rgb);
  free(x);
  return s;
}
