// dg_weights: the tiny SD-1.5-structured checkpoint of tests/io/data (written by make_checkpoints.py)
// loads to identical LDM-named tensors from the LDM single file and from the diffusers folder, with
// the same detected parts and configuration; derived files cover the bare-VAE, ALDM, VideoCrafter2,
// StyleGAN2, old CLIP naming and error cases.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <glib.h>

#include "dg_device.h"
#include "dg_weights.h"
#include "io_util.h"

static char tmp[1024];

static const char *data(const char *name) { return io_path(DG_IO_DATA, name); }
static const char *tmp_path(const char *name) { return io_path(tmp, name); }

// A writer holding the tensors of `src` whose names start with `keep` (and not with `exclude`), renamed
// to add + (name without its first `strip` characters).
static io_writer *derive(const char *src, const char *keep, const char *exclude, size_t strip, const char *add) {
  dg_safetensors *st;
  io_writer *w = io_writer_new();
  if (!dg_check_status(dg_safetensors_open(src, &st), src)) return w;
  for (size_t i = 0; i < dg_safetensors_count(st); i++) {
    const dg_st_tensor *t = dg_safetensors_tensor(st, i);
    if (strncmp(t->name, keep, strlen(keep)) || (exclude && !strncmp(t->name, exclude, strlen(exclude)))) continue;
    char name[1024];
    snprintf(name, sizeof name, "%s%s", add, t->name + strip);
    io_writer_add(w, name, dg_st_dtype_name(t->dtype), t->ndim, t->shape, dg_safetensors_data(st, t),
                  (size_t)(t->end - t->begin));
  }
  dg_safetensors_close(st);
  return w;
}

static void save(io_writer *w, const char *path) {
  dg_check(io_writer_save(w, path), "write %s", path);
  io_writer_free(w);
}

static float *read_f32(const dg_weights *w, const dg_weight *t) {
  float *v = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
  if (!dg_check_status(dg_weights_read(w, t, DG_F32, v, (size_t)t->numel * sizeof(float)), t->name)) memset(v, 0, 4);
  return v;
}

// Every tensor of `sub` is in `full` with the same shape, dtype and values. Returns how many compared.
static size_t compare_stores(const dg_weights *sub, const dg_weights *full, const char *what) {
  size_t same = 0, n = dg_weights_count(sub);
  for (size_t i = 0; i < n; i++) {
    const dg_weight *a = dg_weights_at(sub, i), *b = dg_weights_find(full, a->name);
    if (!dg_check(b != NULL, "%s: '%s' (from '%s') missing from the other layout", what, a->name, a->source_name))
      continue;
    bool shape = a->ndim == b->ndim && !memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof(int64_t));
    if (!dg_check(shape && a->dtype == b->dtype, "%s: '%s' shape/dtype differ", what, a->name)) continue;
    if (a->dtype != DG_ST_F32 && a->dtype != DG_ST_F16 && a->dtype != DG_ST_BF16) continue;
    float *x = read_f32(sub, a), *y = read_f32(full, b);
    same += dg_check(!memcmp(x, y, (size_t)a->numel * sizeof(float)), "%s: '%s' values differ", what, a->name);
    free(x);
    free(y);
  }
  return same;
}

static void check_config(const dg_model_info *m, const char *what) {
  const dg_unet_config *u = &m->unet;
  dg_check(u->in_channels == 4 && u->out_channels == 4 && u->model_channels == 2 && u->time_embed_dim == 8,
           "%s: UNet in/out/model/time channels %d %d %d %d", what, u->in_channels, u->out_channels, u->model_channels,
           u->time_embed_dim);
  dg_check(u->num_levels == 4 && u->channel_mult[0] == 1 && u->channel_mult[1] == 2 && u->channel_mult[2] == 4 &&
               u->channel_mult[3] == 4 && u->num_res_blocks == 2,
           "%s: UNet levels %d, res blocks %d", what, u->num_levels, u->num_res_blocks);
  dg_check(u->attention[0] && u->attention[1] && u->attention[2] && !u->attention[3] && u->mid_attention,
           "%s: UNet attention levels", what);
  dg_check(u->context_dim == 8 && u->transformer_depth == 1 && !u->linear_proj, "%s: UNet context %d depth %d", what,
           u->context_dim, u->transformer_depth);
  const dg_vae_config *v = &m->vae;
  dg_check(v->has_encoder && v->has_decoder && v->ch == 2 && v->num_levels == 4 && v->ch_mult[3] == 4 &&
               v->num_res_blocks == 2 && v->z_channels == 4 && v->embed_dim == 4 && v->in_channels == 3 &&
               v->out_channels == 3,
           "%s: VAE config (ch %d, levels %d, res %d, z %d, embed %d)", what, v->ch, v->num_levels, v->num_res_blocks,
           v->z_channels, v->embed_dim);
  const dg_clip_config *c = &m->clip;
  dg_check(c->vocab == 32 && c->width == 8 && c->layers == 2 && c->max_positions == 77 && c->mlp_dim == 16,
           "%s: CLIP config (vocab %d, width %d, layers %d)", what, c->vocab, c->width, c->layers);
  const dg_control_config *k = &m->control;
  dg_check(k->hint_channels == 3 && k->hint_convs == 8 && !k->id_hint && k->zero_convs == 12 &&
               k->body.model_channels == 2 && k->body.num_levels == 4 && k->body.context_dim == 8 &&
               k->body.out_channels == 0,
           "%s: ControlNet config (hint %d ch, %d convs, %d zero convs)", what, k->hint_channels, k->hint_convs,
           k->zero_convs);
}

static void both_layouts(dg_arena *arena) {
  dg_weights *ldm = NULL, *dif = NULL;
  if (!dg_check_status(dg_weights_open(data("sd15_tiny.safetensors"), &ldm), "open LDM single file") ||
      !dg_check_status(dg_weights_open(data("sd15_tiny_diffusers"), &dif), "open diffusers folder")) {
    dg_weights_close(ldm);
    return;
  }
  dg_check(!strcmp(dg_weights_layout(ldm), "LDM single file"), "layout '%s'", dg_weights_layout(ldm));
  dg_check(!strcmp(dg_weights_layout(dif), "diffusers folder"), "layout '%s'", dg_weights_layout(dif));
  // The single file also holds alphas_cumprod, model_ema.decay and the CLIP position_ids.
  dg_check(dg_weights_count(ldm) == dg_weights_count(dif) + 3, "tensor counts %zu (LDM) vs %zu (diffusers) + 3",
           dg_weights_count(ldm), dg_weights_count(dif));
  size_t same = compare_stores(dif, ldm, "diffusers -> LDM");
  dg_check(same == dg_weights_count(dif), "%zu of %zu diffusers tensors equal their LDM twins", same,
           dg_weights_count(dif));
  printf("%zu tensors identical in both layouts\n", same);
  const dg_weight *q = dg_weights_find(dif, DG_LDM_VAE "decoder.mid.attn_1.q.weight");
  dg_check(q && q->ndim == 4 && q->shape[2] == 1 && q->shape[3] == 1 &&
               !strcmp(q->source_name, "decoder.mid_block.attentions.0.to_q.weight"),
           "diffusers VAE to_q [C,C] becomes LDM q [C,C,1,1]");
  const dg_weight *up = dg_weights_find(dif, DG_LDM_UNET "output_blocks.2.1.conv.weight");
  dg_check(up && !strcmp(up->source_name, "up_blocks.0.upsamplers.0.conv.weight"),
           "upsampler of an up block without attention is output_blocks.2.1");
  up = dg_weights_find(dif, DG_LDM_UNET "output_blocks.5.2.conv.weight");
  dg_check(up && !strcmp(up->source_name, "up_blocks.1.upsamplers.0.conv.weight"),
           "upsampler of an up block with attention is output_blocks.5.2");
  const dg_weight *dec = dg_weights_find(dif, DG_LDM_VAE "decoder.up.3.block.0.conv1.weight");
  dg_check(dec && !strcmp(dec->source_name, "decoder.up_blocks.0.resnets.0.conv1.weight"),
           "VAE decoder up blocks are reversed");
  const char *tok = dg_weights_tokenizer_dir(dif);
  dg_check(tok && strstr(tok, "sd15_tiny_diffusers/tokenizer"), "tokenizer folder found");
  dg_check(dg_weights_tokenizer_dir(ldm) == NULL, "no tokenizer in a single file");
  dg_check(dg_weights_has_prefix(ldm, "model_ema.") && !dg_weights_has_prefix(dif, "model_ema."), "has_prefix");

  dg_model_info a, b;
  if (dg_check_status(dg_weights_detect(ldm, &a), "detect LDM") &&
      dg_check_status(dg_weights_detect(dif, &b), "detect diffusers")) {
    unsigned all = DG_PART_UNET | DG_PART_VAE | DG_PART_CLIP_TEXT | DG_PART_CONTROLNET;
    dg_check(a.parts == all && b.parts == all, "parts %#x and %#x", a.parts, b.parts);
    check_config(&a, "LDM");
    check_config(&b, "diffusers");
    dg_check(!memcmp(&a.unet, &b.unet, sizeof a.unet) && !memcmp(&a.vae, &b.vae, sizeof a.vae) &&
                 !memcmp(&a.clip, &b.clip, sizeof a.clip) && !memcmp(&a.control, &b.control, sizeof a.control),
             "both layouts detect the same configuration");
    printf("%s\n%s\n", a.description, b.description);
  }
  if (arena) {
    const char *names[] = {DG_LDM_UNET "input_blocks.4.0.skip_connection.weight",
                           DG_LDM_VAE "encoder.mid.attn_1.proj_out.weight",
                           DG_LDM_CLIP "text_model.encoder.layers.1.mlp.fc1.weight",
                           DG_LDM_CONTROL "input_hint_block.14.weight", DG_LDM_CONTROL "zero_convs.11.0.bias"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
      dg_tensor x, y;
      if (!dg_check_status(dg_weights_load(ldm, names[i], arena, DG_F32, &x), names[i]) ||
          !dg_check_status(dg_weights_load(dif, names[i], arena, DG_F16, &y), names[i]))
        continue;
      int64_t n = dg_tensor_numel(&x);
      dg_check(x.ndim == y.ndim && n == dg_tensor_numel(&y) && !memcmp(x.shape, y.shape, sizeof x.shape),
               "%s: device shapes equal", names[i]);
      float *fx = malloc((size_t)n * 4), *fy = malloc((size_t)n * 4);
      dg_tensor_read_f32(&x, fx);
      dg_tensor_read_f32(&y, fy);
      bool ok = true;
      for (int64_t k = 0; k < n; k++)
        ok &= fy[k] == dg_f16_to_f32(dg_f32_to_f16(fx[k]));
      dg_check(ok, "%s: f32 (LDM) and f16 (diffusers) device tensors agree", names[i]);
      free(fx);
      free(fy);
    }
    dg_tensor t;
    const dg_weight *op = dg_weights_findf(ldm, DG_LDM_UNET "input_blocks.%d.0.op.weight", 3);
    dg_check(op && op->ndim == 4 && op->shape[0] == 2 && op->shape[1] == 2, "findf input_blocks.3.0.op");
    dg_check_status(dg_weights_load_shaped(dif, DG_LDM_UNET "input_blocks.3.0.op.weight", 4, (int64_t[]){2, 2, 3, 3},
                                           arena, DG_F16, &t),
                    "load_shaped with the right shape");
    dg_check_error(dg_weights_load_shaped(dif, DG_LDM_UNET "input_blocks.3.0.op.weight", 4, (int64_t[]){4, 2, 3, 3},
                                          arena, DG_F16, &t),
                   DG_ERR_FORMAT,
                   "'model.diffusion_model.input_blocks.3.0.op.weight' has shape [2, 2, 3, 3], the model "
                   "expects [4, 2, 3, 3]",
                   "load_shaped with a wrong shape");
    dg_check_error(dg_weights_load(ldm, DG_LDM_CLIP "text_model.embeddings.position_ids", arena, DG_F32, &t),
                   DG_ERR_UNSUPPORTED, "I64", "position_ids are integers");
    dg_check_error(dg_weights_load(ldm, "nope", arena, DG_F32, &t), DG_ERR_ARG, "no tensor 'nope'", "absent name");
  }

  // Component files on their own, and derived variants.
  dg_weights *w;
  dg_model_info m;
  if (dg_check_status(dg_weights_open(data("sd15_tiny_diffusers/unet/diffusion_pytorch_model.safetensors"), &w),
                      "diffusers UNet file")) {
    dg_check(!strcmp(dg_weights_layout(w), "diffusers UNet"), "layout '%s'", dg_weights_layout(w));
    if (dg_check_status(dg_weights_detect(w, &m), "detect diffusers UNet file"))
      dg_check(m.parts == DG_PART_UNET && !memcmp(&m.unet, &a.unet, sizeof m.unet) &&
                   strstr(m.description, "SD-structured UNet"),
               "UNet-only file: %s", m.description);
    dg_weights_close(w);
  }
  io_mkdirs(tmp_path("cn"));
  size_t n;
  unsigned char *cn = io_read_file(data("sd15_tiny_diffusers/controlnet/diffusion_pytorch_model.safetensors"), &n);
  io_write_file(tmp_path("cn/diffusion_pytorch_model.safetensors"), cn, n);
  free(cn);
  if (dg_check_status(dg_weights_open(tmp_path("cn"), &w), "ControlNet-only diffusers folder")) {
    dg_check(!strcmp(dg_weights_layout(w), "diffusers ControlNet"), "layout '%s'", dg_weights_layout(w));
    if (dg_check_status(dg_weights_detect(w, &m), "detect ControlNet folder"))
      dg_check(m.parts == DG_PART_CONTROLNET && !memcmp(&m.control, &a.control, sizeof m.control) &&
                   strstr(m.description, "stock hint"),
               "ControlNet-only: %s", m.description);
    dg_weights_close(w);
  }
  save(derive(data("sd15_tiny.safetensors"), DG_LDM_VAE, NULL, strlen(DG_LDM_VAE), ""), tmp_path("vae.safetensors"));
  if (dg_check_status(dg_weights_open(tmp_path("vae.safetensors"), &w), "bare LDM VAE")) {
    dg_check(!strcmp(dg_weights_layout(w), "LDM VAE"), "layout '%s'", dg_weights_layout(w));
    dg_check(compare_stores(w, ldm, "bare VAE") == 248 && dg_weights_count(w) == 248, "bare VAE: 248 tensors equal");
    if (dg_check_status(dg_weights_detect(w, &m), "detect bare VAE"))
      dg_check(m.parts == DG_PART_VAE && !memcmp(&m.vae, &a.vae, sizeof m.vae), "VAE-only: %s", m.description);
    dg_weights_close(w);
  }
  // Older single files: CLIP names without `text_model.`.
  io_writer *old =
      derive(data("sd15_tiny.safetensors"), DG_LDM_CLIP "text_model.", DG_LDM_CLIP "text_model.embeddings.position_ids",
             strlen(DG_LDM_CLIP "text_model."), DG_LDM_CLIP);
  save(old, tmp_path("oldclip.safetensors"));
  if (dg_check_status(dg_weights_open(tmp_path("oldclip.safetensors"), &w), "old CLIP naming")) {
    dg_check(compare_stores(w, ldm, "old CLIP naming") == 36, "old CLIP names map to text_model.*");
    if (dg_check_status(dg_weights_detect(w, &m), "detect old CLIP"))
      dg_check(m.parts == DG_PART_CLIP_TEXT && !memcmp(&m.clip, &a.clip, sizeof m.clip), "CLIP-only: %s",
               m.description);
    dg_weights_close(w);
  }
  dg_weights_close(ldm);
  dg_weights_close(dif);
}

static void other_models(void) {
  dg_weights *w;
  dg_model_info m;
  // ALDM: the ControlNet with the 5-conv id-embedding hint (16 channels here, 768 in the released models).
  io_writer *x = derive(data("sd15_tiny.safetensors"), DG_LDM_CONTROL, DG_LDM_CONTROL "input_hint_block.", 0, "");
  int64_t ch[6] = {16, 16, 12, 8, 8, 2};
  for (int i = 0; i < 5; i++) {
    char name[128];
    snprintf(name, sizeof name, DG_LDM_CONTROL "input_hint_block.%d.weight", 2 * i);
    io_writer_add(x, name, "F16", 4, (int64_t[]){ch[i + 1], ch[i], 3, 3}, NULL, (size_t)(ch[i + 1] * ch[i] * 9 * 2));
    snprintf(name, sizeof name, DG_LDM_CONTROL "input_hint_block.%d.bias", 2 * i);
    io_writer_add(x, name, "F16", 1, &ch[i + 1], NULL, (size_t)ch[i + 1] * 2);
  }
  save(x, tmp_path("aldm.safetensors"));
  if (dg_check_status(dg_weights_open(tmp_path("aldm.safetensors"), &w), "ALDM ControlNet")) {
    if (dg_check_status(dg_weights_detect(w, &m), "detect ALDM"))
      dg_check(m.parts == DG_PART_CONTROLNET && m.control.id_hint && m.control.hint_channels == 16 &&
                   m.control.hint_convs == 5 && strstr(m.description, "ALDM id-embedding hint"),
               "ALDM: %s", m.description);
    dg_weights_close(w);
  }
  // VideoCrafter2: the UNet plus temporal convs, temporal transformers, init_attn and fps_embedding.
  x = derive(data("sd15_tiny.safetensors"), DG_LDM_UNET, NULL, 0, "");
  io_writer_add(x, DG_LDM_UNET "input_blocks.1.0.temopral_conv.conv1.3.weight", "F16", 5, (int64_t[]){2, 2, 3, 1, 1},
                NULL, 24);
  io_writer_add(x, DG_LDM_UNET "init_attn.0.proj_in.weight", "F16", 2, (int64_t[]){2, 2}, NULL, 8);
  io_writer_add(x, DG_LDM_UNET "fps_embedding.0.weight", "F16", 2, (int64_t[]){8, 2}, NULL, 32);
  // Its OpenCLIP text tower (vocab 32, width 8, 2 layers, mlp 16 here; 49408, 1024, 24, 4096 in VC2).
  io_writer_add(x, DG_LDM_OPENCLIP "token_embedding.weight", "F16", 2, (int64_t[]){32, 8}, NULL, 512);
  io_writer_add(x, DG_LDM_OPENCLIP "positional_embedding", "F16", 2, (int64_t[]){77, 8}, NULL, 77 * 16);
  for (int l = 0; l < 2; l++) {
    char name[128];
    snprintf(name, sizeof name, DG_LDM_OPENCLIP "transformer.resblocks.%d.mlp.c_fc.weight", l);
    io_writer_add(x, name, "F16", 2, (int64_t[]){16, 8}, NULL, 256);
    snprintf(name, sizeof name, DG_LDM_OPENCLIP "transformer.resblocks.%d.attn.in_proj_weight", l);
    io_writer_add(x, name, "F16", 2, (int64_t[]){24, 8}, NULL, 384);
  }
  io_writer_add(x, DG_LDM_OPENCLIP "ln_final.weight", "F16", 1, (int64_t[]){8}, NULL, 16);
  save(x, tmp_path("vc2.safetensors"));
  if (dg_check_status(dg_weights_open(tmp_path("vc2.safetensors"), &w), "VideoCrafter2 UNet3D")) {
    if (dg_check_status(dg_weights_detect(w, &m), "detect VC2"))
      dg_check(m.parts == (DG_PART_UNET3D | DG_PART_OPENCLIP_TEXT) && m.unet.model_channels == 2 &&
                   m.unet.num_levels == 4 && strstr(m.description, "VideoCrafter2 UNet3D") && m.openclip.vocab == 32 &&
                   m.openclip.width == 8 && m.openclip.layers == 2 && m.openclip.max_positions == 77 &&
                   m.openclip.mlp_dim == 16,
               "VC2: %s", m.description);
    dg_weights_close(w);
  }
  if (dg_check_status(dg_weights_open(data("stylegan2_tiny.safetensors"), &w), "StyleGAN2")) {
    if (dg_check_status(dg_weights_detect(w, &m), "detect StyleGAN2"))
      dg_check(m.parts == DG_PART_STYLEGAN2 && m.stylegan2.max_res == 8 && m.stylegan2.mapping_layers == 8 &&
                   m.stylegan2.w_dim == 8,
               "StyleGAN2: %s", m.description);
    dg_weights_close(w);
  }
  if (dg_check_status(dg_weights_open(data("unknown.safetensors"), &w), "unknown model")) {
    dg_check_error(dg_weights_detect(w, &m), DG_ERR_UNSUPPORTED,
                   "no known model among 2 tensors (e.g. 'encoder.layer1.weight', 'head.fc.bias')", "unknown model");
    dg_weights_close(w);
  }
  // A UNet without its middle block is recognised but inconsistent.
  save(derive(data("sd15_tiny.safetensors"), DG_LDM_UNET, DG_LDM_UNET "middle_block.", 0, ""),
       tmp_path("nomid.safetensors"));
  if (dg_check_status(dg_weights_open(tmp_path("nomid.safetensors"), &w), "UNet without middle block")) {
    dg_check_error(dg_weights_detect(w, &m), DG_ERR_FORMAT, "middle_block ResBlocks are missing", "missing middle");
    dg_weights_close(w);
  }
}

static void open_errors(void) {
  dg_weights *w = (dg_weights *)1;
  // A diffusers UNet with a tensor SD 1.x does not have (SDXL's add_embedding).
  io_mkdirs(tmp_path("sdxl/unet"));
  io_writer *x = derive(data("sd15_tiny_diffusers/unet/diffusion_pytorch_model.safetensors"), "", NULL, 0, "");
  io_writer_add(x, "add_embedding.linear_1.weight", "F32", 2, (int64_t[]){2, 2}, NULL, 16);
  save(x, tmp_path("sdxl/unet/diffusion_pytorch_model.safetensors"));
  dg_check_error(dg_weights_open(tmp_path("sdxl"), &w), DG_ERR_UNSUPPORTED,
                 "tensor 'add_embedding.linear_1.weight' has no LDM name in the diffusers UNet layout",
                 "unmappable diffusers name");
  dg_check(w == NULL, "handle cleared on error");
  // Two tensors that map to the same LDM name.
  x = derive(data("sd15_tiny.safetensors"), DG_LDM_CLIP "text_model.final_layer_norm.", NULL, 0, "");
  io_writer_add(x, DG_LDM_CLIP "final_layer_norm.weight", "F32", 1, (int64_t[]){8}, NULL, 32);
  save(x, tmp_path("collide.safetensors"));
  dg_check_error(dg_weights_open(tmp_path("collide.safetensors"), &w), DG_ERR_FORMAT,
                 "both map to 'cond_stage_model.transformer.text_model.final_layer_norm.weight'", "name collision");
  // A component folder holding the wrong model.
  io_mkdirs(tmp_path("wrong/vae"));
  save(derive(data("sd15_tiny_diffusers/unet/diffusion_pytorch_model.safetensors"), "", NULL, 0, ""),
       tmp_path("wrong/vae/diffusion_pytorch_model.safetensors"));
  dg_check_error(dg_weights_open(tmp_path("wrong"), &w), DG_ERR_FORMAT,
                 "expected diffusers VAE tensor names, found diffusers UNet", "wrong component");
  io_mkdirs(tmp_path("pickle/unet"));
  io_write_file(tmp_path("pickle/unet/diffusion_pytorch_model.bin"), "PK\x03\x04", 4);
  dg_check_error(dg_weights_open(tmp_path("pickle"), &w), DG_ERR_FORMAT,
                 "unet/diffusion_pytorch_model.bin: 4 bytes, too short for a zip archive", "broken .bin weights");
  io_mkdirs(tmp_path("empty"));
  dg_check_error(dg_weights_open(tmp_path("empty"), &w), DG_ERR_FORMAT, "no model files found", "empty folder");
  dg_check_error(dg_weights_open(tmp_path("absent"), &w), DG_ERR_IO, "absent", "missing path");
  io_mkdirs(tmp_path("tok/tokenizer"));
  io_write_file(tmp_path("tok/tokenizer/vocab.json"), "{}", 2);
  dg_check_error(dg_weights_open(tmp_path("tok"), &w), DG_ERR_FORMAT, "vocab.json without merges.txt",
                 "tokenizer without merges");
  // A broken file inside a folder reports the file.
  io_mkdirs(tmp_path("broken/text_encoder"));
  io_write_file(tmp_path("broken/text_encoder/model.safetensors"), "\x02\0\0\0\0\0\0\0{", 9);
  dg_check_error(dg_weights_open(tmp_path("broken"), &w), DG_ERR_FORMAT, "text_encoder/model.safetensors",
                 "broken component file");
}

// A layers file over a base beside it (a video model's temporal layers over the image UNet): `extra` names one
// more tensor, `base_name` and `sha` go to its metadata (NULL: left out).
static void save_layers(const char *path, const char *extra, const char *base_name, const char *sha) {
  io_writer *w = io_writer_new();
  float v[2] = {1, 2};
  io_writer_add(w, extra, "F32", 1, (int64_t[]){2}, v, sizeof v);
  if (base_name) io_writer_meta(w, "dirigent.base", base_name);
  if (sha) io_writer_meta(w, "dirigent.base_sha256", sha);
  save(w, path);
}

// Writes `size` bytes over the file at `path` in place (the same inode and size) and moves its mtime a second on,
// as a rewrite a moment later would.
static void rewrite_in_place(const char *path, const unsigned char *bytes, size_t size) {
  struct stat st;
  dg_check(stat(path, &st) == 0 && io_write_file(path, bytes, size), "rewrite %s", path);
  struct timespec times[2] = {st.st_atim, {st.st_mtim.tv_sec + 1, st.st_mtim.tv_nsec}};
  dg_check(utimensat(AT_FDCWD, path, times, 0) == 0, "set the mtime of %s", path);
}

// The base (its bytes `bytes`) is hashed once however often its layers open, and again once it changes: a base
// rewritten after a first open is refused, and accepted again once restored.
static void base_hashed_once(const char *base, const unsigned char *bytes, size_t size) {
  const char *layers = tmp_path("layers/video.safetensors");
  size_t before = dg_weights_base_hashes();
  dg_weights *w = NULL;
  for (int i = 0; i < 3; i++) {
    dg_check_status(dg_weights_open(layers, &w), "the layers opened again");
    dg_weights_close(w);
  }
  dg_check(dg_weights_base_hashes() == before, "the base is not hashed again: %zu hashes, %zu before",
           dg_weights_base_hashes(), before);
  unsigned char *changed = malloc(size);
  memcpy(changed, bytes, size);
  changed[size - 1] ^= 0x5a; // the last byte of the last tensor: same size, other weights
  rewrite_in_place(base, changed, size);
  w = (dg_weights *)1;
  dg_check_error(dg_weights_open(layers, &w), DG_ERR_FORMAT, "(retrained?)", "a base changed after a first open");
  dg_check(w == NULL && dg_weights_base_hashes() == before + 1, "  ... hashed again (%zu hashes, %zu before)",
           dg_weights_base_hashes(), before);
  rewrite_in_place(base, bytes, size);
  dg_check_status(dg_weights_open(layers, &w), "the base restored opens");
  dg_weights_close(w);
  dg_check(dg_weights_base_hashes() == before + 2, "  ... after one more hash (%zu, %zu before)",
           dg_weights_base_hashes(), before);
  free(changed);
}

static void layered_store(void) {
  io_mkdirs(tmp_path("layers"));
  char base[4096];
  snprintf(base, sizeof base, "%s", tmp_path("layers/unet.safetensors"));
  save(derive(data("sd15_tiny.safetensors"), DG_LDM_UNET, NULL, 0, ""), base);
  size_t size;
  unsigned char *bytes = io_read_file(base, &size);
  char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, bytes, size);
  dg_weights *layered = NULL, *alone = NULL;
  save_layers(tmp_path("layers/video.safetensors"), DG_LDM_UNET "input_blocks.1.2.extra", "unet.safetensors", sha);
  if (dg_check_status(dg_weights_open(tmp_path("layers/video.safetensors"), &layered), "layers over a base") &&
      dg_check_status(dg_weights_open(base, &alone), "the base alone")) {
    dg_check(dg_weights_count(layered) == dg_weights_count(alone) + 1, "layered store: %zu tensors = %zu + 1",
             dg_weights_count(layered), dg_weights_count(alone));
    dg_check(dg_weights_find(layered, DG_LDM_UNET "input_blocks.1.2.extra") != NULL, "the layer is found");
    dg_check(compare_stores(alone, layered, "base in layered store") == dg_weights_count(alone),
             "every base tensor read through the layered store");
    dg_check(!strcmp(dg_weights_path(layered), tmp_path("layers/video.safetensors")),
             "the store's path is the layers file (its .json is the model's config)");
  }
  dg_weights_close(layered);
  dg_weights_close(alone);
  dg_weights *w = (dg_weights *)1;
  base_hashed_once(base, bytes, size);
  save_layers(tmp_path("layers/stale.safetensors"), DG_LDM_UNET "x", "unet.safetensors",
              "0000000000000000000000000000000000000000000000000000000000000000");
  dg_check_error(dg_weights_open(tmp_path("layers/stale.safetensors"), &w), DG_ERR_FORMAT,
                 "layers/unet.safetensors with SHA-256 0000", "a base that changed since");
  dg_check(w == NULL, "handle cleared on error");
  free(bytes);
  save_layers(tmp_path("layers/up.safetensors"), DG_LDM_UNET "x", "../unet.safetensors", sha);
  dg_check_error(dg_weights_open(tmp_path("layers/up.safetensors"), &w), DG_ERR_FORMAT,
                 "'../unet.safetensors' is not a file name in the same folder", "a base outside the folder");
  save_layers(tmp_path("layers/nosha.safetensors"), DG_LDM_UNET "x", "unet.safetensors", NULL);
  dg_check_error(dg_weights_open(tmp_path("layers/nosha.safetensors"), &w), DG_ERR_FORMAT,
                 "without a 64-digit dirigent.base_sha256", "a base without its checksum");
  save_layers(tmp_path("layers/orphan.safetensors"), DG_LDM_UNET "x", "gone.safetensors", sha);
  dg_check_error(dg_weights_open(tmp_path("layers/orphan.safetensors"), &w), DG_ERR_IO, "layers/gone.safetensors",
                 "a missing base");
  save_layers(tmp_path("layers/dup.safetensors"), DG_LDM_UNET "out.2.bias", "unet.safetensors", sha);
  dg_check_error(dg_weights_open(tmp_path("layers/dup.safetensors"), &w), DG_ERR_FORMAT,
                 "both map to 'model.diffusion_model.out.2.bias'", "a layer the base also has");
  // One level only: a base that is itself a layers file.
  bytes = io_read_file(tmp_path("layers/video.safetensors"), &size);
  char *sha2 = g_compute_checksum_for_data(G_CHECKSUM_SHA256, bytes, size);
  free(bytes);
  save_layers(tmp_path("layers/deep.safetensors"), DG_LDM_UNET "y", "video.safetensors", sha2);
  dg_check_error(dg_weights_open(tmp_path("layers/deep.safetensors"), &w), DG_ERR_FORMAT, "one level only",
                 "a base with a base");
  g_free(sha);
  g_free(sha2);
}

// Metadata merged once at open: 20k entries are listed in well under a second (it was quadratic: 100k took 72 s in
// `dirigent-cli convert`).
static void many_metadata(void) {
  io_writer *w = io_writer_new();
  float v = 1;
  int64_t shape[1] = {1};
  io_writer_add(w, "x", "F32", 1, shape, &v, sizeof v);
  char key[32];
  for (int i = 0; i < 20000; i++) {
    snprintf(key, sizeof key, "k%06d", 19999 - i);
    io_writer_meta(w, key, "v");
  }
  save(w, tmp_path("meta.safetensors"));
  dg_weights *st;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  if (!dg_check_status(dg_weights_open(tmp_path("meta.safetensors"), &st), "20k metadata entries")) return;
  size_t n = dg_weights_metadata_count(st);
  const char *k = NULL, *val;
  for (size_t i = 0; i < n; i++)
    dg_weights_metadata_at(st, i, &k, &val);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double s = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
  dg_weights_metadata_at(st, 0, &k, &val);
  dg_check(n == 20000 && k && s < 2.0, "20k metadata entries listed in %.3f s (%zu)", s, n);
  dg_weights_close(st);
}

int main(void) {
  char *dir = io_tmpdir();
  snprintf(tmp, sizeof tmp, "%s", dir ? dir : "/tmp");
  dg_device *device = NULL;
  dg_arena *arena = NULL;
  if (dg_device_open(NULL, &device) != DG_OK || dg_arena_create(device, 0, &arena) != DG_OK)
    printf("no usable Vulkan device (%s): device loads skipped\n", dg_last_error());
  both_layouts(arena);
  other_models();
  open_errors();
  layered_store();
  many_metadata();
  if (device) {
    dg_check(dg_device_validation_messages(device) == 0, "no validation messages");
    dg_arena_destroy(arena);
    dg_device_close(device);
  }
  io_rmtree(dir);
  free(dir);
  return dg_check_finish("test_weights");
}
