// PyTorch checkpoints (render/io/dg_ckpt.c, dg_zip.c, dg_pickle.c) against the safetensors route, on the
// torch.save fixtures of tests/io/data/ckpt (tools/train/dgtrain/make_fixtures_ckpt.py): every tensor of
// a .ckpt / .pt / .pth / .bin loads through dg_weights_open with the same LDM name, shape, dtype and
// bytes as from the safetensors files of the same model (Lightning, DeepSpeed, VideoCrafter2 and ALDM
// layouts, a diffusers folder of .bin files, f16, bf16, ZIP64). Malicious pickles are refused naming
// the global and run nothing; broken archives and pickles give clear errors (this suite also runs
// under ASan+UBSan).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dg_ckpt.h"
#include "dg_pickle.h"
#include "dg_weights.h"
#include "dg_zip.h"
#include "io_util.h"

static char tmp[1024];

static const char *data(const char *name) { return io_path(DG_IO_DATA, name); }
static const char *tmp_path(const char *name) { return io_path(tmp, name); }

static dg_weights *open_w(const char *path) {
  dg_weights *w = NULL;
  return dg_check_status(dg_weights_open(path, &w), path) ? w : NULL;
}

static size_t bytes_of(const dg_weight *t) { return (size_t)t->numel * dg_st_dtype_size(t->dtype); }

// Every tensor of `a` is in `b` with the same shape, dtype and bytes; `all`: and b has no other.
static void same_tensors(const dg_weights *a, const dg_weights *b, bool all, const char *what) {
  if (!a || !b) return;
  size_t n = dg_weights_count(a), same = 0;
  if (all) dg_check(n == dg_weights_count(b), "%s: %zu tensors against %zu", what, n, dg_weights_count(b));
  for (size_t i = 0; i < n; i++) {
    const dg_weight *x = dg_weights_at(a, i), *y = dg_weights_find(b, x->name);
    if (!dg_check(y != NULL, "%s: '%s' missing from the other store", what, x->name)) continue;
    bool shape = x->ndim == y->ndim && !memcmp(x->shape, y->shape, (size_t)x->ndim * sizeof(int64_t));
    if (!dg_check(shape && x->dtype == y->dtype && x->numel == y->numel, "%s: '%s' shape or dtype differ", what,
                  x->name))
      continue;
    same += dg_check(!memcmp(dg_weights_data(a, x), dg_weights_data(b, y), bytes_of(x)), "%s: '%s' bytes differ",
                     what, x->name);
  }
  dg_check(n > 0 && same == n, "%s: %zu of %zu tensors equal", what, same, n);
}

static void detect_same(const dg_weights *a, const dg_weights *b, const char *what) {
  dg_model_info x, y;
  if (!dg_check_status(dg_weights_detect(a, &x), what) || !dg_check_status(dg_weights_detect(b, &y), what)) return;
  dg_check(x.parts == y.parts && !memcmp(&x.unet, &y.unet, sizeof x.unet) && !memcmp(&x.vae, &y.vae, sizeof x.vae) &&
               !memcmp(&x.clip, &y.clip, sizeof x.clip) && !memcmp(&x.control, &y.control, sizeof x.control),
           "%s: the same models detected (%s | %s)", what, x.description, y.description);
}

// A safetensors file of the tensors of `src` whose names start with `keep` (not `exclude`).
static io_writer *derive(const char *src, const char *keep, const char *exclude) {
  dg_safetensors *st;
  io_writer *w = io_writer_new();
  if (!dg_check_status(dg_safetensors_open(src, &st), src)) return w;
  for (size_t i = 0; i < dg_safetensors_count(st); i++) {
    const dg_st_tensor *t = dg_safetensors_tensor(st, i);
    if (strncmp(t->name, keep, strlen(keep)) || (exclude && !strncmp(t->name, exclude, strlen(exclude)))) continue;
    io_writer_add(w, t->name, dg_st_dtype_name(t->dtype), t->ndim, t->shape, dg_safetensors_data(st, t),
                  (size_t)(t->end - t->begin));
  }
  dg_safetensors_close(st);
  return w;
}

static void zeros16(io_writer *w, const char *name, int ndim, const int64_t *shape) {
  size_t n = 1;
  for (int i = 0; i < ndim; i++)
    n *= (size_t)shape[i];
  io_writer_add(w, name, "F16", ndim, shape, NULL, 2 * n);
}

static void save(io_writer *w, const char *path) {
  dg_check(io_writer_save(w, path), "write %s", path);
  io_writer_free(w);
}

// ---------------------------------------------------------------------------------------------------
static void sd15(void) {
  dg_weights *c = open_w(data("ckpt/sd15_tiny.ckpt")), *s = open_w(data("sd15_tiny.safetensors"));
  if (c && s) {
    same_tensors(c, s, true, "Lightning sd15_tiny.ckpt vs .safetensors");
    detect_same(c, s, "sd15_tiny");
    dg_check(!strcmp(dg_weights_layout(c), dg_weights_layout(s)), "layout '%s'", dg_weights_layout(c));
    const char *note = dg_weights_metadata(c, "note");
    dg_check(note && !strcmp(note, "tiny") && dg_weights_metadata_count(c) == 3,
             "top-level strings as metadata (note '%s', %zu entries)", note ? note : "", dg_weights_metadata_count(c));
    const dg_weight *t = dg_weights_find(c, "cond_stage_model.transformer.text_model.embeddings.position_ids");
    dg_check(t && t->dtype == DG_ST_I64, "an I64 buffer kept");
    // Every dtype reads as f32 the same as from the safetensors file.
    for (size_t i = 0; i < dg_weights_count(c); i += 37) {
      const dg_weight *x = dg_weights_at(c, i), *y = dg_weights_find(s, x->name);
      if (x->dtype != DG_ST_F32 && x->dtype != DG_ST_F16 && x->dtype != DG_ST_BF16) continue;
      size_t n = (size_t)x->numel * 4;
      float *a = malloc(n + 4), *b = malloc(n + 4);
      dg_check(dg_weights_read(c, x, DG_F32, a, n) == DG_OK && dg_weights_read(s, y, DG_F32, b, n) == DG_OK &&
                   !memcmp(a, b, n),
               "'%s' reads the same", x->name);
      free(a);
      free(b);
    }
  }
  dg_weights_close(c);
  dg_weights_close(s);
  // A diffusers folder of .bin files (VAE encoder and text encoder) against the safetensors folder.
  c = open_w(data("ckpt/sd15_tiny_bin"));
  s = open_w(data("sd15_tiny_diffusers"));
  if (c && s) {
    same_tensors(c, s, false, "diffusers .bin folder");
    dg_check(!strcmp(dg_weights_layout(c), "diffusers folder") && dg_weights_count(c) == 142 &&
                 dg_weights_find(c, "first_stage_model.encoder.mid.attn_1.q.weight")->ndim == 4,
             "diffusers .bin folder: %zu tensors, mid attention as 1x1 convs", dg_weights_count(c));
  }
  dg_weights_close(c);
  dg_weights_close(s);
}

static void layouts(void) {
  // ALDM: a Lightning state_dict of control_model.* with the 5-conv id hint (zeros).
  io_writer *x = derive(data("sd15_tiny.safetensors"), DG_LDM_CONTROL, DG_LDM_CONTROL "input_hint_block.");
  int64_t ch[6] = {16, 16, 12, 8, 8, 2};
  for (int i = 0; i < 5; i++) {
    char name[128];
    snprintf(name, sizeof name, DG_LDM_CONTROL "input_hint_block.%d.weight", 2 * i);
    zeros16(x, name, 4, (int64_t[]){ch[i + 1], ch[i], 3, 3});
    snprintf(name, sizeof name, DG_LDM_CONTROL "input_hint_block.%d.bias", 2 * i);
    zeros16(x, name, 1, &ch[i + 1]);
  }
  save(x, tmp_path("aldm.safetensors"));
  dg_weights *c = open_w(data("ckpt/aldm.ckpt")), *s = open_w(tmp_path("aldm.safetensors"));
  if (c && s) {
    same_tensors(c, s, true, "ALDM aldm.ckpt");
    dg_model_info m;
    if (dg_check_status(dg_weights_detect(c, &m), "detect ALDM"))
      dg_check(m.parts == DG_PART_CONTROLNET && m.control.id_hint && m.control.hint_channels == 16, "ALDM: %s",
               m.description);
  }
  dg_weights_close(c);
  dg_weights_close(s);

  // VideoCrafter2 names in a Lightning DeepSpeed checkpoint ({'module': {'_forward_module.' + name}}).
  x = derive(data("sd15_tiny.safetensors"), DG_LDM_UNET, NULL); // the whole UNet
  zeros16(x, DG_LDM_UNET "input_blocks.1.0.temopral_conv.conv1.3.weight", 5, (int64_t[]){2, 2, 3, 1, 1});
  zeros16(x, DG_LDM_UNET "init_attn.0.proj_in.weight", 2, (int64_t[]){2, 2});
  zeros16(x, DG_LDM_UNET "fps_embedding.0.weight", 2, (int64_t[]){8, 2});
  zeros16(x, DG_LDM_OPENCLIP "token_embedding.weight", 2, (int64_t[]){32, 8});
  zeros16(x, DG_LDM_OPENCLIP "positional_embedding", 2, (int64_t[]){77, 8});
  for (int l = 0; l < 2; l++) {
    char name[128];
    snprintf(name, sizeof name, DG_LDM_OPENCLIP "transformer.resblocks.%d.mlp.c_fc.weight", l);
    zeros16(x, name, 2, (int64_t[]){16, 8});
    snprintf(name, sizeof name, DG_LDM_OPENCLIP "transformer.resblocks.%d.attn.in_proj_weight", l);
    zeros16(x, name, 2, (int64_t[]){24, 8});
  }
  zeros16(x, DG_LDM_OPENCLIP "ln_final.weight", 1, (int64_t[]){8});
  save(x, tmp_path("vc2.safetensors"));
  c = open_w(data("ckpt/vc2.ckpt"));
  s = open_w(tmp_path("vc2.safetensors"));
  if (c && s) {
    same_tensors(c, s, true, "VideoCrafter2 vc2.ckpt ('_forward_module.' stripped)");
    dg_model_info m;
    if (dg_check_status(dg_weights_detect(c, &m), "detect VideoCrafter2 from vc2.ckpt"))
      dg_check(m.parts == (DG_PART_UNET3D | DG_PART_OPENCLIP_TEXT) && strstr(m.description, "VideoCrafter2 UNet3D") &&
                   m.openclip.layers == 2,
               "VC2 from .ckpt: %s", m.description);
  }
  dg_weights_close(c);
  dg_weights_close(s);

  // DeepSpeed: {'module': {'module.' + name}}; f16, bf16 and ZIP64 files.
  c = open_w(data("ckpt/deepspeed.pt"));
  s = open_w(data("sd15_tiny.safetensors"));
  if (c && s) {
    same_tensors(c, s, false, "DeepSpeed deepspeed.pt ('module.' stripped)");
    dg_check(dg_weights_count(c) == 20, "deepspeed.pt: %zu tensors", dg_weights_count(c));
  }
  dg_weights_close(c);
  c = open_w(data("ckpt/vae_f16.pt"));
  size_t compared = 0;
  for (size_t i = 0; c && s && i < dg_weights_count(c); i++) { // torch's .half() rounds as dg_weights_read does
    const dg_weight *x16 = dg_weights_at(c, i), *ref = dg_weights_find(s, x16->name);
    if (!dg_check(ref && x16->dtype == DG_ST_F16, "vae_f16.pt: '%s' is an F16 copy", x16->name)) continue;
    size_t n = (size_t)x16->numel * 2;
    uint16_t *h = malloc(n + 2);
    compared += dg_check(dg_weights_read(s, ref, DG_F16, h, n) == DG_OK && !memcmp(h, dg_weights_data(c, x16), n),
                         "vae_f16.pt: '%s' values", x16->name);
    free(h);
  }
  dg_check(compared == 26, "vae_f16.pt: %zu F16 tensors equal", compared);
  dg_weights_close(c);
  c = open_w(data("ckpt/clip_bf16.pth"));
  compared = 0;
  for (size_t i = 0; c && s && i < dg_weights_count(c); i++) {
    const dg_weight *b16 = dg_weights_at(c, i), *ref = dg_weights_find(s, b16->name);
    if (!dg_check(ref && b16->dtype == DG_ST_BF16, "clip_bf16.pth: '%s' is a BF16 copy", b16->name)) continue;
    size_t n = (size_t)b16->numel;
    float *f = malloc(4 * n + 4);
    bool same = dg_weights_read(s, ref, DG_F32, f, 4 * n) == DG_OK;
    const uint16_t *got = dg_weights_data(c, b16);
    for (size_t k = 0; same && k < n; k++) { // round to nearest even, as torch's .bfloat16()
      uint32_t u;
      memcpy(&u, &f[k], 4);
      same = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16) == got[k];
    }
    compared += dg_check(same, "clip_bf16.pth: '%s' values", b16->name);
    free(f);
  }
  dg_check(compared == 36, "clip_bf16.pth: %zu BF16 tensors equal", compared);
  dg_weights_close(s);
  s = open_w(data("ckpt/zip64.ckpt"));
  if (c && s) same_tensors(s, c, true, "ZIP64 zip64.ckpt vs clip_bf16.pth");
  dg_weights_close(c);
  dg_weights_close(s);
}

// Views of one storage (w[1] of a [3, 4] tensor), an I64 tensor, a Parameter-free Lightning dict.
static void views(void) {
  dg_safetensors *st;
  if (!dg_check_status(dg_safetensors_open(data("ckpt/tiny.ckpt"), &st), "tiny.ckpt")) return;
  const dg_st_tensor *w = dg_safetensors_find(st, "a.weight"), *v = dg_safetensors_find(st, "view"),
                     *b = dg_safetensors_find(st, "a.bias"), *steps = dg_safetensors_find(st, "steps");
  if (dg_check(w && v && b && steps && dg_safetensors_count(st) == 4, "tiny.ckpt: four tensors")) {
    float wv[12], vv[4];
    dg_check(w->ndim == 2 && w->shape[0] == 3 && w->shape[1] == 4 && v->ndim == 1 && v->shape[0] == 4 &&
                 b->dtype == DG_ST_F16 && steps->dtype == DG_ST_I64,
             "tiny.ckpt shapes and dtypes");
    if (dg_check(dg_safetensors_read(st, w, DG_F32, wv, sizeof wv) == DG_OK &&
                     dg_safetensors_read(st, v, DG_F32, vv, sizeof vv) == DG_OK,
                 "tiny.ckpt reads")) {
      bool ok = true;
      for (int i = 0; i < 12; i++)
        ok &= wv[i] == (float)i / 8;
      for (int i = 0; i < 4; i++)
        ok &= vv[i] == wv[4 + i];
      dg_check(ok, "tiny.ckpt: values, and the view of row 1");
    }
    int64_t s2[2];
    memcpy(s2, dg_safetensors_data(st, steps), sizeof s2);
    dg_check(s2[0] == 1 && s2[1] == 2, "tiny.ckpt: I64 bytes");
  }
  dg_safetensors_close(st);
  if (dg_check_status(dg_safetensors_open(data("ckpt/good_handmade.ckpt"), &st), "good_handmade.ckpt")) {
    const dg_st_tensor *t = dg_safetensors_find(st, "v");
    float f[3];
    dg_check(t && dg_safetensors_read(st, t, DG_F32, f, sizeof f) == DG_OK && f[0] == 2 && f[1] == 3 && f[2] == 4,
             "a view at storage offset 1");
    dg_safetensors_close(st);
  }
}

static void refused(void) {
  static const char *const markers[] = {"system", "stack", "eval", "exec", "popen", "nested"};
  char path[256];
  for (size_t i = 0; i < sizeof markers / sizeof *markers; i++) {
    snprintf(path, sizeof path, "/tmp/dg_ckpt_pwned_%s", markers[i]);
    unlink(path);
  }
  static const struct {
    const char *file, *message;
    dg_status code;
  } bad[] = {
      {"global_system.ckpt", "global_system.ckpt: refuses to load global 'posix.system'", DG_ERR_UNSUPPORTED},
      {"stack_global_system.ckpt", "refuses to load global 'posix.system'", DG_ERR_UNSUPPORTED},
      {"eval.ckpt", "refuses to load global '__builtin__.eval'", DG_ERR_UNSUPPORTED},
      {"exec.ckpt", "refuses to load global 'builtins.exec'", DG_ERR_UNSUPPORTED},
      {"popen.ckpt", "refuses to load global 'subprocess.Popen'", DG_ERR_UNSUPPORTED},
      {"nested.ckpt", "refuses to load global 'posix.system'", DG_ERR_UNSUPPORTED},
      {"subclass.ckpt", "refuses to load global '__main__.EvilTensor'", DG_ERR_UNSUPPORTED},
      {"legacy.pt", "legacy format of torch < 1.6", DG_ERR_UNSUPPORTED},
      {"deflated.ckpt", "zip entry 'archive/data.pkl' is compressed (method 8)", DG_ERR_UNSUPPORTED},
      {"storage_size.ckpt", "storage 'archive/data/0' of 6 F32 elements needs 24 bytes, the archive holds 16",
       DG_ERR_FORMAT},
      {"dtype_size.ckpt", "of 4 F64 elements needs 32 bytes", DG_ERR_FORMAT},
      {"view_past.ckpt", "elements [2, +4) run past its storage of 4 elements", DG_ERR_FORMAT},
      {"negative_shape.ckpt", "a negative or non-int size", DG_ERR_FORMAT},
      {"missing_storage.ckpt", "its storage 'archive/data/7' is not in the archive", DG_ERR_FORMAT},
      {"strided.ckpt", "non-contiguous strides", DG_ERR_UNSUPPORTED},
      {"no_tensors.ckpt", "no tensors found in the checkpoint (top-level keys: 'epoch'", DG_ERR_FORMAT},
      {"unsafe_name.ckpt", "unsafe name 'archive/../../etc/x'", DG_ERR_FORMAT},
      {"duplicate_entry.ckpt", "zip entry 'archive/data/0' appears twice", DG_ERR_FORMAT},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char name[128];
    snprintf(name, sizeof name, "ckpt/bad/%s", bad[i].file);
    dg_weights *w = (dg_weights *)1;
    dg_check_error(dg_weights_open(data(name), &w), bad[i].code, bad[i].message, bad[i].file);
    dg_check(w == NULL, "%s: no handle", bad[i].file);
  }
  for (size_t i = 0; i < sizeof markers / sizeof *markers; i++) {
    snprintf(path, sizeof path, "/tmp/dg_ckpt_pwned_%s", markers[i]);
    dg_check(access(path, F_OK) != 0, "%s never created", path);
  }
  // Pickles written here: every opcode outside the subset, a GLOBAL outside the allowlist whatever
  // the spelling, REDUCE of a non-callable, deep nesting and a memo bomb stay bounded.
  static const struct {
    const char *pickle;
    size_t size;
    const char *message;
  } pk[] = {
#define P(s) s, sizeof s - 1
      {P("\x80\x02"
         "cos\nsystem\n"
         "."),
       "refuses to load global 'os.system'"},
      {P("\x80\x02"
         "ctorch\nload\n"
         "."),
       "refuses to load global 'torch.load'"},
      {P("\x80\x02"
         "ctorch._utils\n_rebuild_tensor_v2 \n"
         "."),
       "refuses to load global 'torch._utils._rebuild_tensor_v2 '"},
      {P("\x80\x04\x8c\x05posix\x8c\x06system\x93."), "refuses to load global 'posix.system'"},
      {P("\x80\x02"
         "ctorch\nFloatStorage\n)R."),
       "global 'torch.FloatStorage' is not callable here"},
      {P("\x80\x02"
         "ccollections\nOrderedDict\n(K\x01tR."),
       "OrderedDict takes no arguments or a list of pairs"},
      {P("\x80\x02}(K\x01u."), "SETITEMS with a key without value"},
      {P("\x80\x02K\x01K\x02K\x03s."), "SETITEM on something that is not a dict"},
      {P("\x80\x02h\x05."), "BINGET of a memo entry never stored"},
      {P("\x80\x02S'x'\n."), "opcode 0x53 is not one torch.save writes"},
      {P("\x80\x02i__builtin__\neval\n."), "opcode 0x69"},
      {P("\x80\x02(X\x05\0\0\0ab"), "runs past the end of the pickle"},
      {P("\x80\x02}"), "ends without STOP"},
      {P("\x80\x02."), "pops an empty stack"},
      {P("\x80\x02(."), "pops past a MARK"},
      {P("\x80\x04\x8c\x02\xff\xfe."), "a text string is not UTF-8 (byte 0xff at offset 0)"},
      {P("\x80\x04\x8c\x03\xed\xa0\x80."), "is not UTF-8 (byte 0xed"},
      {P("\x80\x04\x8c\x04\xc3\xa9t\xc3."), "is not UTF-8 (byte 0xc3 at offset 3)"},
      {P("\x80\x04\x8c\x03\xc3\xa9t."), NULL},
      {P("\x80\x02]K\x01a."), NULL},
      {P("\x80\x02\x8a\x09\x01\x02\x03\x04\x05\x06\x07\x08\x09."), NULL},
#undef P
  };
  for (size_t i = 0; i < sizeof pk / sizeof *pk; i++) {
    dg_pickle *p = NULL;
    const dg_pk_value *root;
    dg_status s = dg_pickle_load(pk[i].pickle, pk[i].size, "test.pkl", &p, &root);
    if (pk[i].message)
      dg_check(s != DG_OK && strstr(dg_last_error(), pk[i].message), "pickle %zu: '%s' (got '%s')", i, pk[i].message,
               s != DG_OK ? dg_last_error() : "success");
    else
      dg_check(s == DG_OK && root, "pickle %zu loads", i);
    dg_pickle_free(p);
  }
  // 100000 nested MARKs and lists: refused or bounded, never a stack overflow.
  size_t n = 300000;
  unsigned char *deep = malloc(n + 3);
  deep[0] = 0x80, deep[1] = 2;
  for (size_t i = 2; i < n + 2; i++)
    deep[i] = i % 2 ? ']' : '(';
  deep[n + 2] = '.';
  dg_pickle *p = NULL;
  const dg_pk_value *root;
  dg_check_error(dg_pickle_load(deep, n + 3, "deep.pkl", &p, &root), DG_ERR_UNSUPPORTED, "more than 65536 entries",
                 "deep marks");
  free(deep);
}

// Every truncation and every single-byte change of a small checkpoint: an error or a valid table, no
// crash; bad central directory offsets and sizes are named.
static void corrupt(void) {
  size_t size;
  unsigned char *img = io_read_file(data("ckpt/tiny.ckpt"), &size);
  if (!dg_check(img != NULL, "read tiny.ckpt")) return;
  unsigned char *copy = malloc(size);
  size_t ok = 0;
  for (size_t n = 0; n < size; n++) {
    memcpy(copy, img, n);
    dg_safetensors *st = NULL;
    dg_status s = dg_safetensors_open_memory(copy, n, "cut.ckpt", &st);
    if (s == DG_OK) ok++;
    dg_check(s != DG_OK || st, "truncated at %zu", n);
    dg_safetensors_close(st);
  }
  dg_check(ok == 0, "no truncation of tiny.ckpt opens (%zu did)", ok);
  size_t opened = 0;
  for (size_t i = 0; i < size; i++) {
    for (int flip = 0; flip < 2; flip++) {
      memcpy(copy, img, size);
      copy[i] ^= flip ? 0xff : 0x01;
      dg_safetensors *st = NULL;
      if (dg_safetensors_open_memory(copy, size, "flip.ckpt", &st) == DG_OK) {
        opened++;
        for (size_t k = 0; k < dg_safetensors_count(st); k++) { // whatever opened reads inside the image
          const dg_st_tensor *t = dg_safetensors_tensor(st, k);
          const unsigned char *d = dg_safetensors_data(st, t);
          dg_check(d >= copy && d + (t->end - t->begin) <= copy + size, "flip %zu: '%s' inside the image", i, t->name);
        }
      } else
        dg_check(dg_last_error()[0] != 0, "flip %zu: an error message", i);
      dg_safetensors_close(st);
    }
  }
  printf("  %zu of %zu single-byte changes of tiny.ckpt still open (data bytes, padding)\n", opened, 2 * size);
  // torch.save (miniz) always writes the ZIP64 end record and locator before the end record: their
  // central directory offset and size, an entry's local header offset, and a saturated end record
  // without the ZIP64 records.
  size_t eocd = size - 22, locator = eocd - 20, eocd64 = locator - 56;
  memcpy(copy, img, size);
  if (dg_check(!memcmp(copy + eocd, "PK\x05\x06", 4) && !memcmp(copy + locator, "PK\x06\x07", 4) &&
                   !memcmp(copy + eocd64, "PK\x06\x06", 4),
               "tiny.ckpt ends with the ZIP64 end record, its locator and the end record")) {
    dg_safetensors *st;
    uint64_t cd_offset, big = 0x7fffff00u;
    memcpy(&cd_offset, copy + eocd64 + 48, 8);
    memcpy(copy + eocd64 + 48, &big, 8);
    dg_check_error(dg_safetensors_open_memory(copy, size, "cd.ckpt", &st), DG_ERR_FORMAT,
                   "cd.ckpt: zip central directory [2147483392", "central directory offset past the file");
    memcpy(copy, img, size);
    memcpy(copy + eocd64 + 40, &big, 8);
    dg_check_error(dg_safetensors_open_memory(copy, size, "cd.ckpt", &st), DG_ERR_FORMAT, "runs past its end record",
                   "central directory size past the file");
    memcpy(copy, img, size);
    uint64_t at = size;
    memcpy(copy + locator + 8, &at, 8);
    dg_check_error(dg_safetensors_open_memory(copy, size, "loc.ckpt", &st), DG_ERR_FORMAT,
                   "ZIP64 end of central directory record missing", "ZIP64 locator past the file");
    memcpy(copy, img, size);
    uint32_t lh = 0x7fffff00u;
    memcpy(copy + cd_offset + 42, &lh, 4); // the first entry's local header offset
    dg_check_error(dg_safetensors_open_memory(copy, size, "lh.ckpt", &st), DG_ERR_FORMAT, "no local header at offset",
                   "local header offset past the data");
    memcpy(copy, img, size);
    copy[locator] = 'X';
    uint16_t count = 0xffff;
    memcpy(copy + eocd + 10, &count, 2);
    memcpy(copy + eocd + 8, &count, 2);
    dg_check_error(dg_safetensors_open_memory(copy, size, "z64.ckpt", &st), DG_ERR_FORMAT,
                   "asks for ZIP64 records, which are missing", "saturated count without ZIP64");
  }
  free(copy);
  free(img);
  // The ZIP64 fixture: its records are read (entry sizes and offsets from the extra field).
  img = io_read_file(data("ckpt/zip64.ckpt"), &size);
  dg_zip *z;
  if (img && dg_check_status(dg_zip_open_memory(img, size, "zip64.ckpt", &z), "zip64 archive")) {
    const dg_zip_entry *e = dg_zip_find(z, "clip_bf16/data.pkl");
    dg_check(e && e->size > 0 && e->size < size && e->method == 0, "zip64: data.pkl from the ZIP64 extra field");
    const unsigned char *d;
    dg_check(e && dg_zip_data_checked(z, e, &d) == DG_OK && d[0] == 0x80, "zip64: data.pkl's CRC and bytes");
    dg_zip_close(z);
  }
  free(img);
  dg_safetensors *st;
  dg_check_error(dg_safetensors_open_memory("PK\x05\x06", 4, "empty.ckpt", &st), DG_ERR_FORMAT, "too short",
                 "a 4-byte zip");
  static const unsigned char empty_zip[22] = "PK\x05\x06";
  dg_check_error(dg_safetensors_open_memory(empty_zip, sizeof empty_zip, "empty.ckpt", &st), DG_ERR_FORMAT,
                 "without <archive>/data.pkl", "an empty zip");
  io_write_file(tmp_path("fifo_dir.ckpt"), "", 0);
  dg_check_error(dg_safetensors_open(tmp_path("fifo_dir.ckpt"), &st), DG_ERR_FORMAT, "0 bytes, too short",
                 "an empty .ckpt");
}

int main(void) {
  char *dir = io_tmpdir();
  snprintf(tmp, sizeof tmp, "%s", dir ? dir : "/tmp");
  sd15();
  layouts();
  views();
  refused();
  corrupt();
  io_rmtree(dir);
  free(dir);
  return dg_check_finish("test_ckpt");
}
