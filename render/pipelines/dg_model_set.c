#include "dg_model_set.h"

#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_clip_text.h"
#include "dg_controlnet.h"
#include "dg_memory.h"
#include "dg_model_config.h"
#include "dg_tiny_decoder.h"
#include "dg_unet.h"
#include "dg_unet3d.h"
#include "dg_vae.h"

struct dg_model_set {
  dg_device *device;
  dg_dtype dtype;
  dg_arena *weights, *scratch;
  dg_stream *stream;
  dg_weights *stores[DG_ROLE_COUNT]; // each opened once (a single file serves several roles)
  int n_stores;
  dg_tokenizer *tok;
  struct {
    dg_weights *w; // NULL: the set has no such model
    void *model;
  } role[DG_ROLE_COUNT];
  char *video_file;   // an image-only set's video UNet, loaded by dg_model_set_load_video (NULL: none)
  int video_loads;    // times it was loaded
  float *class_table; // ALDM id hint: [classes + 1, dim], null embedding last
  int table_classes, table_dim;
  float scale_factor;
  int factor;
  char description[2048];
};

// ---- configuration: the JSON beside a role's file, else its "config" metadata, else defaults ----

// What a role reads from its configuration (dg_model_config), each value range-checked and the heads
// against the detected widths, both when the set opens and when it is checked without a device.
typedef struct role_config {
  int text_heads;      // text encoder (absent: the width / 64, SD 1.5's 12 heads of 64)
  dg_unet_heads heads; // UNet, ControlNet (absent: SD 1.x's 8 heads)
  float scale_factor;  // VAE (absent: SD's 0.18215)
} role_config;

static dg_status config_text(const dg_model_config *c, const dg_model_info *info, role_config *out) {
  return dg_clip_text_heads_read(c, &info->clip, &out->text_heads);
}
static dg_status config_unet(const dg_model_config *c, const dg_model_info *info, role_config *out) {
  return dg_unet_heads_read(c, &info->unet, &out->heads);
}
static dg_status config_vae(const dg_model_config *c, const dg_model_info *info, role_config *out) {
  (void)info;
  return dg_vae_scale_read(c, &out->scale_factor);
}
static dg_status config_control(const dg_model_config *c, const dg_model_info *info, role_config *out) {
  return dg_unet_heads_read(c, &info->control.body, &out->heads);
}

static dg_status config_video(const dg_model_config *c, const dg_model_info *info, role_config *out) {
  return dg_unet_heads_read(c, &info->unet, &out->heads);
}

static void describe(dg_model_set *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void describe(dg_model_set *m, const char *fmt, ...) {
  size_t used = strlen(m->description);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->description + used, sizeof m->description - used, fmt, ap);
  va_end(ap);
}

// ---- the roles -------------------------------------------------------------------------------------

static dg_status load_text(dg_model_set *m, const dg_nn_src *src, const role_config *rc, void *model) {
  (void)m;
  return dg_clip_text_load(src, rc->text_heads, model);
}

static void describe_text(dg_model_set *m, const void *model, const char *layout) {
  const dg_clip_text *c = model;
  describe(m, "text encoder: %d layers, width %d (%s)\n", c->cfg.layers, c->cfg.width, layout);
}

static dg_status load_unet(dg_model_set *m, const dg_nn_src *src, const role_config *rc, void *model) {
  (void)m;
  return dg_unet_load(src, rc->heads, model);
}

static void describe_unet(dg_model_set *m, const void *model, const char *layout) {
  const dg_unet_config *u = &((const dg_unet *)model)->enc.cfg;
  describe(m, "unet: %d levels, %d channels, context %d (%s)\n", u->num_levels, u->model_channels, u->context_dim,
           layout);
}

static dg_status load_vae(dg_model_set *m, const dg_nn_src *src, const role_config *rc, void *model) {
  dg_vae *v = model;
  DG_TRY(dg_vae_load(src, v));
  m->scale_factor = rc->scale_factor;
  m->factor = 1 << (v->cfg.num_levels - 1);
  return DG_OK;
}

static void describe_vae(dg_model_set *m, const void *model, const char *layout) {
  describe(m, "vae: %d levels, latent factor %d, scale %.5f (%s)\n", ((const dg_vae *)model)->cfg.num_levels, m->factor,
           m->scale_factor, layout);
}

// The table stored with the ControlNet; without one (a real ALDM checkpoint keeps it apart) it is
// computed from the class names after the text encoder has loaded (class_table_from_names).
static dg_status load_class_table(dg_model_set *m, const dg_weights *w) {
  const dg_weight *t = dg_weights_find(w, "dirigent.class_embeddings");
  if (!t) return DG_OK;
  if (t->ndim != 2 || t->shape[0] < 2) return dg_fail(DG_ERR_FORMAT, "class embedding table has a bad shape");
  m->table_classes = (int)t->shape[0] - 1;
  m->table_dim = (int)t->shape[1];
  m->class_table = malloc((size_t)t->numel * sizeof(float));
  if (!m->class_table) return dg_memory_fail("the class embedding table", (uint64_t)t->numel * sizeof(float));
  return dg_weights_read(w, t, DG_F32, m->class_table, (size_t)t->numel * sizeof(float));
}

static dg_status load_control(dg_model_set *m, const dg_nn_src *src, const role_config *rc, void *model) {
  dg_controlnet *c = model;
  DG_TRY(dg_controlnet_load(src, rc->heads, c));
  return c->id_hint ? load_class_table(m, src->w) : DG_OK;
}

static void describe_control(dg_model_set *m, const void *model, const char *layout) {
  bool id = ((const dg_controlnet *)model)->id_hint;
  describe(m, "controlnet: %s hint (%s)\n", id ? "class-embedding (ALDM)" : "colour", layout);
}

static dg_status load_video(dg_model_set *m, const dg_nn_src *src, const role_config *rc, void *model) {
  (void)m;
  return dg_unet3d_load(src, rc->heads, model);
}

static void describe_video(dg_model_set *m, const void *model, const char *layout) {
  const dg_unet3d *u = model;
  describe(m, "video unet: %d levels, %d channels, %d temporal transformers%s (%s)\n", u->cfg.num_levels,
           u->cfg.model_channels, u->n_temporal, u->has_fps ? ", fps conditioned" : "", layout);
}

static dg_status config_none(const dg_model_config *c, const dg_model_info *info, role_config *out) {
  (void)c, (void)info, (void)out;
  return DG_OK;
}

// After the VAE (an earlier role): the tiny decoder must decode the VAE's latents to the same image size.
static dg_status load_tiny(dg_model_set *m, const dg_nn_src *src, const role_config *rc, void *model) {
  (void)rc;
  const dg_tiny_decoder *d = model;
  const dg_vae *v = m->role[DG_ROLE_VAE].model;
  DG_TRY(dg_tiny_decoder_load(src, model));
  int zc = v ? v->cfg.embed_dim : 0;
  if (m->factor != 1 << (DG_TINY_LEVELS - 1) || d->latent_channels != zc)
    return dg_fail(DG_ERR_FORMAT, "%s: the tiny decoder takes %d-channel latents at 1/%d of the image, the VAE's are "
                                  "%d channels at 1/%d",
                   dg_weights_path(src->w), d->latent_channels, 1 << (DG_TINY_LEVELS - 1), zc, m->factor);
  return DG_OK;
}

static void describe_tiny(dg_model_set *m, const void *model, const char *layout) {
  const dg_tiny_decoder *d = model;
  describe(m, "tiny decoder (live frames): widths %d/%d/%d/%d (%s)\n", d->channels[0], d->channels[1], d->channels[2],
           d->channels[3], layout);
}

typedef struct role_info {
  const char *name; // dg_model_role_name
  const char *file; // in a Dirigent model folder (the ControlNet's is controlnet_<name>.safetensors)
  unsigned part;    // the dg_model_part the store must hold
  const char *what; // as messages name it
  bool optional;    // the set may lack it
  size_t size;      // of the loaded model
  dg_status (*config)(const dg_model_config *c, const dg_model_info *info, role_config *out);
  dg_status (*load)(dg_model_set *m, const dg_nn_src *src, const role_config *rc, void *model);
  void (*describe)(dg_model_set *m, const void *model, const char *layout);
} role_info;

static const role_info roles[DG_ROLE_COUNT] = {
    [DG_ROLE_TEXT_ENCODER] = {"text encoder", "text_encoder.safetensors", DG_PART_CLIP_TEXT, "CLIP text encoder", false,
                              sizeof(dg_clip_text), config_text, load_text, describe_text},
    [DG_ROLE_UNET] = {"unet", "unet.safetensors", DG_PART_UNET, "image UNet", false, sizeof(dg_unet), config_unet,
                      load_unet, describe_unet},
    [DG_ROLE_VAE] = {"vae", "vae.safetensors", DG_PART_VAE, "VAE decoder", false, sizeof(dg_vae), config_vae, load_vae,
                     describe_vae},
    [DG_ROLE_CONTROLNET] = {"controlnet", NULL, DG_PART_CONTROLNET, "ControlNet", true, sizeof(dg_controlnet),
                            config_control, load_control, describe_control},
    [DG_ROLE_VIDEO_UNET] = {"video unet", "video_unet.safetensors", DG_PART_UNET3D, "video UNet (UNet3D)", true,
                            sizeof(dg_unet3d), config_video, load_video, describe_video},
    [DG_ROLE_TINY_DECODER] = {"tiny decoder", "tiny_decoder.safetensors", DG_PART_TINY_DECODER, "tiny latent decoder",
                              true, sizeof(dg_tiny_decoder), config_none, load_tiny, describe_tiny},
};

// Reads and checks role r's configuration from its store w; info: what w holds (NULL: detected here).
static dg_status read_config(dg_model_role r, dg_weights *w, const dg_model_info *info, role_config *out) {
  dg_model_info detected;
  dg_model_config c = {0};
  dg_status s = info ? DG_OK : dg_weights_detect(w, &detected);
  if (s == DG_OK) s = dg_model_config_load_optional(dg_weights_path(w), w, &c);
  if (s == DG_OK) s = roles[r].config(&c, info ? info : &detected, out);
  dg_model_config_free(&c);
  return s;
}

const char *dg_model_role_name(dg_model_role role) {
  return role >= 0 && role < DG_ROLE_COUNT ? roles[role].name : "unknown role";
}

// ---- where each role comes from --------------------------------------------------------------------

static bool is_file(const char *path) { return g_file_test(path, G_FILE_TEST_IS_REGULAR); }

// Whether a ControlNet option names a file rather than a model folder's ControlNet: a path with a '/'
// or ending in .safetensors.
static bool control_is_path(const char *control) {
  return control && (strchr(control, G_DIR_SEPARATOR) || g_str_has_suffix(control, ".safetensors"));
}

// A Dirigent model folder's file for each role (the ControlNet `control`: a name, default "aldm", for
// controlnet_<name>.safetensors, NULL when that file is absent; or a path, kept as given so that opening
// it names it when it is missing). False, with nothing allocated, when `model` is no such folder.
// g_free each path.
static bool folder_files(const char *model, const char *control, const char *video, char *paths[DG_ROLE_COUNT]) {
  char *text = g_build_filename(model, roles[DG_ROLE_TEXT_ENCODER].file, NULL);
  if (!is_file(text)) {
    g_free(text);
    return false;
  }
  for (int r = 0; r < DG_ROLE_COUNT; r++) {
    if (!roles[r].file && control_is_path(control)) {
      paths[r] = g_strdup(control);
      continue;
    }
    if (r == DG_ROLE_VIDEO_UNET && video) {
      paths[r] = g_strdup(video);
      continue;
    }
    char *name = roles[r].file ? g_strdup(roles[r].file)
                               : g_strdup_printf("controlnet_%s.safetensors", control ? control : "aldm");
    paths[r] = g_build_filename(model, name, NULL);
    g_free(name);
    if (roles[r].optional && !is_file(paths[r])) g_clear_pointer(&paths[r], g_free);
  }
  g_free(text);
  return true;
}

static dg_status no_control(const char *model, const char *control) {
  return dg_fail(DG_ERR_ARG, "model %s has no controlnet_%s.safetensors", model, control);
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
  if (is_file(vocab))
    *owned = beside;
  else
    g_free(beside);
  g_free(vocab);
  return *owned ? *owned : o->default_tokenizer_dir;
}

static dg_status no_tokenizer(const char *model) {
  return dg_fail(DG_ERR_ARG, "model %s: no tokenizer found (tokenizer/ with vocab.json and merges.txt)", model);
}

// The ALDM class table from names, as tools/train/dgtrain/train_controlnet.py class_table makes it:
// the text encoder's pooled output (the final layer norm's output at the end token, no projection) of
// "a photo of {name}" per class, and of the empty prompt last as the null embedding (unlabelled pixels).
#define TABLE_BATCH 16
static dg_status class_table_from_names(dg_model_set *m, const char *const *names, int n) {
  const dg_clip_text *clip = m->role[DG_ROLE_TEXT_ENCODER].model;
  int d = clip->cfg.width, len = clip->cfg.max_positions < DG_TOKENS_MAX ? clip->cfg.max_positions : DG_TOKENS_MAX;
  m->class_table = malloc((size_t)(n + 1) * d * sizeof(float));
  int32_t *ids = malloc((size_t)TABLE_BATCH * DG_TOKENS_MAX * sizeof *ids);
  float *hidden = malloc((size_t)TABLE_BATCH * len * d * sizeof *hidden);
  dg_status s = m->class_table && ids && hidden ? DG_OK
                                                : dg_memory_fail("the class embedding table", (uint64_t)(n + 1) * d * 4);
  dg_nn_ctx nn = {.s = m->stream, .scratch = m->scratch, .dtype = m->dtype};
  for (int first = 0; first <= n && s == DG_OK; first += TABLE_BATCH) {
    int count = n + 1 - first < TABLE_BATCH ? n + 1 - first : TABLE_BATCH;
    for (int i = 0; i < count && s == DG_OK; i++) {
      char *prompt = first + i < n ? g_strdup_printf("a photo of %s", names[first + i]) : g_strdup("");
      int32_t row[DG_TOKENS_MAX];
      s = dg_tokenizer_encode(m->tok, prompt, DG_TOKENS_MAX, row, NULL, NULL);
      memcpy(ids + (size_t)i * len, row, (size_t)len * sizeof *ids);
      g_free(prompt);
    }
    dg_arena_mark mark = dg_arena_get_mark(m->scratch);
    dg_tensor out;
    if (s == DG_OK) s = dg_clip_text_forward(&nn, clip, ids, count, len, 0, &out);
    if (s == DG_OK) s = dg_stream_finish(m->stream);
    else dg_stream_finish(m->stream);
    if (s == DG_OK) s = dg_tensor_read_f32(&out, hidden);
    if (s == DG_OK) {
      for (int i = 0; i < count; i++) {
        int k = dg_clip_text_pooled_index(ids + (size_t)i * len, len);
        memcpy(m->class_table + (size_t)(first + i) * d, hidden + ((size_t)i * len + k) * d, (size_t)d * sizeof *hidden);
      }
    }
    dg_arena_release(m->scratch, mark);
  }
  free(ids);
  free(hidden);
  if (s != DG_OK) return s;
  m->table_classes = n;
  m->table_dim = d;
  describe(m, "class table: %d classes computed with the text encoder (\"a photo of {class}\")\n", n);
  return DG_OK;
}

static dg_status control_table(dg_model_set *m, const dg_model_options *o) {
  const dg_controlnet *c = m->role[DG_ROLE_CONTROLNET].model;
  if (!c || !c->id_hint || m->class_table) return DG_OK;
  if (!o->class_names || o->n_class_names < 1) { // a layout then fails in dg_generate, naming the cause
    describe(m, "class table: none stored and no class names given\n");
    return DG_OK;
  }
  return class_table_from_names(m, o->class_names, o->n_class_names);
}

// ---- opening -------------------------------------------------------------------------------------

static dg_status open_store(dg_model_set *m, const char *path, dg_weights **out) {
  if (m->n_stores == DG_ROLE_COUNT) return dg_fail(DG_ERR_ARG, "model: too many files");
  DG_TRY(dg_weights_open(path, out));
  m->stores[m->n_stores++] = *out;
  return DG_OK;
}

static dg_status find_tokenizer(dg_model_set *m, const char *model, const dg_model_options *o, const dg_weights *text) {
  char *owned;
  const char *dir = tokenizer_dir_for(model, o, text, &owned);
  dg_status s = dir ? dg_tokenizer_load(dir, &m->tok) : no_tokenizer(model);
  if (s == DG_OK) describe(m, "tokenizer: %d tokens (%s)\n", dg_tokenizer_vocab_size(m->tok), dir);
  g_free(owned);
  return s;
}

// Opens the store of each role: a Dirigent folder's files, or the one store for them all (the
// ControlNet: the option's file, else the store itself when it holds one).
static dg_status open_stores(dg_model_set *m, const char *model, const dg_model_options *o) {
  char *files[DG_ROLE_COUNT] = {0};
  dg_status s = DG_OK;
  if (folder_files(model, o->control, o->video_unet, files)) {
    if (o->image_only) m->video_file = files[DG_ROLE_VIDEO_UNET], files[DG_ROLE_VIDEO_UNET] = NULL;
    for (int r = 0; r < DG_ROLE_COUNT && s == DG_OK; r++)
      if (files[r]) s = open_store(m, files[r], &m->role[r].w);
    if (s == DG_OK && !files[DG_ROLE_CONTROLNET] && o->control) s = no_control(model, o->control);
  } else {
    dg_weights *w;
    s = open_store(m, model, &w);
    for (int r = 0; r < DG_ROLE_COUNT && s == DG_OK; r++)
      if (!roles[r].optional) m->role[r].w = w;
    if (s == DG_OK && dg_weights_has_prefix(w, DG_LDM_CONTROL)) m->role[DG_ROLE_CONTROLNET].w = w;
    if (s == DG_OK && o->control) s = open_store(m, o->control, &m->role[DG_ROLE_CONTROLNET].w);
    if (s == DG_OK && o->video_unet && o->image_only) m->video_file = g_strdup(o->video_unet);
    else if (s == DG_OK && o->video_unet) s = open_store(m, o->video_unet, &m->role[DG_ROLE_VIDEO_UNET].w);
  }
  for (int r = 0; r < DG_ROLE_COUNT; r++)
    g_free(files[r]);
  return s;
}

void dg_model_set_close(dg_model_set *m) {
  if (!m) return;
  dg_stream_destroy(m->stream);
  dg_arena_destroy(m->scratch);
  dg_arena_destroy(m->weights);
  for (int i = 0; i < m->n_stores; i++)
    dg_weights_close(m->stores[i]);
  for (int r = 0; r < DG_ROLE_COUNT; r++)
    free(m->role[r].model);
  dg_tokenizer_free(m->tok);
  free(m->class_table);
  g_free(m->video_file);
  free(m);
}

// Loads role r's model from its opened store with its checked configuration, and describes it.
static dg_status load_role(dg_model_set *m, dg_model_role r, const role_config *rc) {
  m->role[r].model = calloc(1, roles[r].size);
  if (!m->role[r].model) return dg_memory_fail(roles[r].what, roles[r].size);
  dg_nn_src src = {m->role[r].w, m->weights, m->dtype};
  return roles[r].load(m, &src, rc, m->role[r].model);
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
  if (s == DG_OK) s = open_stores(m, model, &o);
  if (s == DG_OK) s = find_tokenizer(m, model, &o, m->role[DG_ROLE_TEXT_ENCODER].w);
  role_config rc[DG_ROLE_COUNT]; // every configuration checked before any weights are read
  for (int r = 0; r < DG_ROLE_COUNT && s == DG_OK; r++)
    if (m->role[r].w) s = read_config((dg_model_role)r, m->role[r].w, NULL, &rc[r]);
  for (int r = 0; r < DG_ROLE_COUNT && s == DG_OK; r++)
    if (m->role[r].w) s = load_role(m, (dg_model_role)r, &rc[r]);
  for (int r = 0; r < DG_ROLE_COUNT && s == DG_OK; r++)
    if (m->role[r].w) roles[r].describe(m, m->role[r].model, dg_weights_layout(m->role[r].w));
  if (s == DG_OK) s = control_table(m, &o);
  if (s == DG_OK)
    *out = m;
  else
    dg_model_set_close(m);
  return s;
}

dg_status dg_model_set_load_video(dg_model_set *m) {
  const dg_model_role r = DG_ROLE_VIDEO_UNET;
  if (m->role[r].model || !m->video_file) return DG_OK;
  dg_arena_mark mark = dg_arena_get_mark(m->weights);
  role_config rc;
  dg_status s = open_store(m, m->video_file, &m->role[r].w);
  if (s == DG_OK) s = read_config(r, m->role[r].w, NULL, &rc);
  if (s == DG_OK) s = load_role(m, r, &rc);
  if (s == DG_OK) {
    roles[r].describe(m, m->role[r].model, dg_weights_layout(m->role[r].w));
    m->video_loads++;
    return DG_OK;
  }
  // As it was, so that the next video job tries again (the file may have been fixed by then).
  if (m->role[r].w) dg_weights_close(m->stores[--m->n_stores]);
  m->role[r].w = NULL;
  g_clear_pointer(&m->role[r].model, free);
  dg_arena_release(m->weights, mark);
  return s;
}

int dg_model_set_video_loads(const dg_model_set *m) { return m->video_loads; }

// ---- checking without a device ---------------------------------------------------------------------

static void sizes_of(int factor, const dg_unet_config *unet, dg_model_sizes *out) {
  out->factor = factor;
  out->multiple = factor << (unet->num_levels - 1);
  out->unet = *unet;
}

// Fails naming `path` unless its detected models include the role's part (a VAE must have a decoder).
static dg_status need_part(const char *path, const dg_model_info *info, dg_model_role r) {
  unsigned part = roles[r].part;
  bool ok = (info->parts & part) && (part != DG_PART_VAE || info->vae.has_decoder);
  return ok ? DG_OK : dg_fail(DG_ERR_UNSUPPORTED, "%s: no %s in it (found %s)", path, roles[r].what, info->description);
}

// Opens `path`, detects its models and requires those of the roles in `mask` (bit r: role r).
// An ALDM ControlNet without its class table passes: the set computes the table from the palette's
// class names when it opens (dg_model_options.class_names).
static dg_status check_store(const char *path, unsigned mask, dg_weights **out, dg_model_info *info) {
  DG_TRY(dg_weights_open(path, out));
  dg_status s = dg_weights_detect(*out, info);
  for (int r = 0; r < DG_ROLE_COUNT && s == DG_OK; r++)
    if (mask & 1u << r) s = need_part(path, info, (dg_model_role)r);
  return s;
}

dg_status dg_model_set_check(const char *model, const dg_model_options *opt, char *kind, size_t kind_size) {
  return dg_model_set_check_sizes(model, opt, kind, kind_size, NULL);
}

dg_status dg_model_set_check_sizes(const char *model, const dg_model_options *opt, char *kind, size_t kind_size,
                                   dg_model_sizes *sizes) {
  dg_model_options o = opt ? *opt : (dg_model_options){0};
  if (!model || !*model) return dg_fail(DG_ERR_ARG, "model: no path given");
  char *files[DG_ROLE_COUNT] = {0};
  dg_weights *w[DG_ROLE_COUNT] = {0};
  dg_model_info info[DG_ROLE_COUNT];
  const char *layout = "";
  dg_status s = DG_OK;
  const unsigned required = 1u << DG_ROLE_TEXT_ENCODER | 1u << DG_ROLE_UNET | 1u << DG_ROLE_VAE;
  if (folder_files(model, o.control, o.video_unet, files)) {
    if (o.image_only) g_clear_pointer(&files[DG_ROLE_VIDEO_UNET], g_free); // checked when it loads
    for (int r = 0; r < DG_ROLE_COUNT && s == DG_OK; r++)
      if (files[r]) s = check_store(files[r], 1u << r, &w[r], &info[r]);
    if (s == DG_OK && !files[DG_ROLE_CONTROLNET] && o.control) s = no_control(model, o.control);
    layout = "Dirigent model folder";
  } else {
    s = check_store(model, required, &w[0], &info[0]);
    for (int r = 1; r < DG_ROLE_COUNT; r++)
      info[r] = info[0];
    if (s == DG_OK && o.control) {
      s = check_store(o.control, 1u << DG_ROLE_CONTROLNET, &w[DG_ROLE_CONTROLNET],
                      &info[DG_ROLE_CONTROLNET]);
    } else if (s == DG_OK && (info[0].parts & DG_PART_CONTROLNET)) {
      files[DG_ROLE_CONTROLNET] = g_strdup(model);
    }
    if (s == DG_OK && o.video_unet && !o.image_only) {
      s = check_store(o.video_unet, 1u << DG_ROLE_VIDEO_UNET, &w[DG_ROLE_VIDEO_UNET], &info[DG_ROLE_VIDEO_UNET]);
      files[DG_ROLE_VIDEO_UNET] = g_strdup(o.video_unet);
    }
    if (s == DG_OK) layout = dg_weights_layout(w[0]);
  }
  // Each role's configuration from its store (a single file serves the roles it holds).
  for (int r = 0; r < DG_ROLE_COUNT && s == DG_OK; r++) {
    dg_weights *store = w[r] ? w[r] : !roles[r].optional || files[r] ? w[0] : NULL;
    role_config rc;
    if (store) s = read_config((dg_model_role)r, store, &info[r], &rc);
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
    const dg_unet_config *u = &info[DG_ROLE_UNET].unet;
    const char *family = u->context_dim == 768 && !u->linear_proj   ? " (SD 1.x)"
                         : u->context_dim == 1024 && u->linear_proj ? " (SD 2.x)"
                                                                    : "";
    const char *control = !files[DG_ROLE_CONTROLNET] && !o.control   ? ""
                          : info[DG_ROLE_CONTROLNET].control.id_hint ? ", ALDM layout ControlNet"
                                                                     : ", colour layout ControlNet";
    snprintf(kind, kind_size, "%s%s: text encoder, UNet, VAE%s", layout, family, control);
  }
  if (s == DG_OK && sizes) sizes_of(1 << (info[DG_ROLE_VAE].vae.num_levels - 1), &info[DG_ROLE_UNET].unet, sizes);
  for (int r = 0; r < DG_ROLE_COUNT; r++) {
    if (w[r]) dg_weights_close(w[r]);
    g_free(files[r]);
  }
  return s;
}

// ---- the layout ControlNet's palette needs ---------------------------------------------------------

static dg_status read_class_names(const dg_weights *w, dg_model_control_info *out) {
  dg_model_config c = {0};
  DG_TRY(dg_model_config_load_optional(dg_weights_path(w), w, &c));
  const dg_json_value *names = dg_model_config_get(&c, "class_names");
  dg_status s = DG_OK;
  if (names && (names->type != DG_JSON_ARRAY || names->count < 1 || names->count > 255))
    s = dg_fail(DG_ERR_FORMAT, "%s: \"class_names\" is not a list of 1..255 names", c.source);
  if (names && s == DG_OK) {
    out->class_names = calloc(names->count + 1, sizeof *out->class_names);
    for (size_t i = 0; i < names->count && s == DG_OK; i++) {
      if (names->items[i]->type != DG_JSON_STRING || !*names->items[i]->str)
        s = dg_fail(DG_ERR_FORMAT, "%s: \"class_names\" entry %zu is not a non-empty string", c.source, i);
      else out->class_names[out->n_class_names++] = g_strdup(names->items[i]->str);
    }
  }
  dg_model_config_free(&c);
  return s;
}

dg_status dg_model_control_inspect(const char *model, const dg_model_options *opt, dg_model_control_info *out) {
  memset(out, 0, sizeof *out);
  out->table_classes = -1;
  dg_model_options o = opt ? *opt : (dg_model_options){0};
  if (!model || !*model) return dg_fail(DG_ERR_ARG, "model: no path given");
  char *files[DG_ROLE_COUNT] = {0};
  char *path = NULL;
  dg_status s = DG_OK;
  if (folder_files(model, o.control, o.video_unet, files)) {
    path = files[DG_ROLE_CONTROLNET], files[DG_ROLE_CONTROLNET] = NULL;
    if (!path && o.control) s = no_control(model, o.control);
    for (int r = 0; r < DG_ROLE_COUNT; r++)
      g_free(files[r]);
  } else {
    path = g_strdup(o.control ? o.control : model);
  }
  dg_weights *w = NULL;
  dg_model_info info;
  if (s == DG_OK && path) s = dg_weights_open(path, &w);
  if (s == DG_OK && w) s = dg_weights_detect(w, &info);
  if (s == DG_OK && w && (info.parts & DG_PART_CONTROLNET)) {
    out->present = true;
    out->id_hint = info.control.id_hint;
    const dg_weight *t = dg_weights_find(w, "dirigent.class_embeddings");
    if (t && t->ndim == 2 && t->shape[0] >= 2) out->table_classes = (int)t->shape[0] - 1;
    s = read_class_names(w, out);
  } else if (s == DG_OK && w && o.control) {
    s = dg_fail(DG_ERR_UNSUPPORTED, "%s: no ControlNet in it (found %s)", path, info.description);
  }
  if (w) dg_weights_close(w);
  g_free(path);
  if (s != DG_OK) dg_model_control_info_clear(out);
  return s;
}

void dg_model_control_info_clear(dg_model_control_info *info) {
  for (int i = 0; i < info->n_class_names; i++)
    g_free(info->class_names[i]);
  free(info->class_names);
  memset(info, 0, sizeof *info);
  info->table_classes = -1;
}

// ---- what the roles share --------------------------------------------------------------------------

const void *dg_model_set_get(const dg_model_set *m, dg_model_role role) {
  return role >= 0 && role < DG_ROLE_COUNT ? m->role[role].model : NULL;
}
bool dg_model_set_has(const dg_model_set *m, dg_model_role role) { return dg_model_set_get(m, role) != NULL; }
bool dg_model_set_has_control(const dg_model_set *m) { return dg_model_set_has(m, DG_ROLE_CONTROLNET); }
dg_stream *dg_model_set_stream(dg_model_set *m) { return m->stream; }
dg_arena *dg_model_set_scratch(dg_model_set *m) { return m->scratch; }
dg_dtype dg_model_set_dtype(const dg_model_set *m) { return m->dtype; }
const dg_tokenizer *dg_model_set_tokenizer(const dg_model_set *m) { return m->tok; }
const char *dg_model_set_describe(const dg_model_set *m) { return m->description; }
int dg_model_set_latent_factor(const dg_model_set *m) { return m->factor; }
void dg_model_set_sizes(const dg_model_set *m, dg_model_sizes *out) {
  sizes_of(m->factor, &((const dg_unet *)m->role[DG_ROLE_UNET].model)->enc.cfg, out);
}
float dg_model_set_scale_factor(const dg_model_set *m) { return m->scale_factor; }

const float *dg_model_set_class_table(const dg_model_set *m, int *classes, int *dim) {
  *classes = m->table_classes;
  *dim = m->table_dim;
  return m->class_table;
}
