#include "dg_weights.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "dg_memory.h"

#define MAX_FILES 8
#define MAX_NAME 512

typedef struct entry {
  dg_weight pub;
  int file;
  const dg_st_tensor *src;
} entry;

struct dg_weights {
  dg_safetensors *files[MAX_FILES];
  int nfiles;
  entry *entries; // sorted by LDM name
  size_t count, cap;
  const char *layout;
  char *tokenizer_dir;
  char *path;
  const char **meta_keys, **meta_values; // the files' metadata merged (dg_weights_metadata_at)
  size_t meta_count;
};

// ---------------------------------------------------------------------------------------------------
// Name matching: scan(s, pat, &a, &b) matches `pat` at the start of s, where each '#' matches an
// unsigned decimal integer of 1-4 digits (so index arithmetic cannot overflow) stored in the next int*.
// Returns the rest of s, or NULL.
static const char *scan(const char *s, const char *pat, ...) {
  va_list ap;
  va_start(ap, pat);
  for (; *pat; pat++) {
    if (*pat == '#') {
      int v = 0, n = 0;
      while (*s >= '0' && *s <= '9' && n < 4)
        v = v * 10 + (*s++ - '0'), n++;
      if (n == 0 || (*s >= '0' && *s <= '9')) {
        va_end(ap);
        return NULL;
      }
      *va_arg(ap, int *) = v;
    } else if (*s++ != *pat) {
      va_end(ap);
      return NULL;
    }
  }
  va_end(ap);
  return s;
}

static bool starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }
static bool param_tail(const char *rest) { return rest && (!strcmp(rest, "weight") || !strcmp(rest, "bias")); }

// Appends formatted text to out (cap bytes); false on overflow.
static bool put(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool put(char *out, size_t cap, const char *fmt, ...) {
  size_t used = strlen(out);
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(out + used, cap - used, fmt, ap);
  va_end(ap);
  return n >= 0 && (size_t)n < cap - used;
}

typedef struct name_rename {
  const char *from, *to;
} name_rename;

// Replaces one of the table's prefixes of rest; the remainder must be "weight" or "bias".
static bool put_renamed(char *out, size_t cap, const char *rest, const name_rename *table, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (starts(rest, table[i].from) && param_tail(rest + strlen(table[i].from)))
      return put(out, cap, "%s%s", table[i].to, rest + strlen(table[i].from));
  return false;
}

static const name_rename unet_resnet[] = {
    {"norm1.", "in_layers.0."},  {"conv1.", "in_layers.2."},  {"time_emb_proj.", "emb_layers.1."},
    {"norm2.", "out_layers.0."}, {"conv2.", "out_layers.3."}, {"conv_shortcut.", "skip_connection."},
};
static const name_rename vae_resnet[] = {
    {"norm1.", "norm1."},
    {"conv1.", "conv1."},
    {"norm2.", "norm2."},
    {"conv2.", "conv2."},
    {"conv_shortcut.", "nin_shortcut."},
};
static const name_rename vae_attention[] = {
    {"group_norm.", "norm."},    {"to_q.", "q."},  {"to_k.", "k."}, {"to_v.", "v."},
    {"to_out.0.", "proj_out."},  {"query.", "q."}, {"key.", "k."},  {"value.", "v."},
    {"proj_attn.", "proj_out."},
};
#define N(a) (sizeof a / sizeof *a)

// A SpatialTransformer keeps its inner names in both layouts.
static bool put_transformer(char *out, size_t cap, const char *rest) {
  if (!(starts(rest, "norm.") || starts(rest, "proj_in.") || starts(rest, "proj_out.") ||
        starts(rest, "transformer_blocks.")))
    return false;
  return put(out, cap, "%s", rest);
}

// Facts about a diffusers file needed for index arithmetic.
typedef struct scheme_ctx {
  int layers_per_block; // resnets per down block
  bool up_attention[DG_MAX_LEVELS * 4];
  int up_blocks;   // UNet/VAE decoder up blocks
  int hint_blocks; // ControlNet conditioning-embedding blocks
} scheme_ctx;

static void scan_ctx(const char *const *names, size_t count, scheme_ctx *c) {
  memset(c, 0, sizeof *c);
  for (size_t k = 0; k < count; k++) {
    int i, j;
    const char *s = names[k];
    if (scan(s, "down_blocks.0.resnets.#.", &j) && j + 1 > c->layers_per_block) c->layers_per_block = j + 1;
    if (scan(s, "up_blocks.#.", &i) || scan(s, "decoder.up_blocks.#.", &i))
      if (i + 1 > c->up_blocks) c->up_blocks = i + 1;
    if (scan(s, "up_blocks.#.attentions.", &i) && i < (int)N(c->up_attention)) c->up_attention[i] = true;
    if (scan(s, "controlnet_cond_embedding.blocks.#.", &i) && i + 1 > c->hint_blocks) c->hint_blocks = i + 1;
  }
}

// diffusers UNet2DConditionModel / ControlNetModel name -> LDM name (without prefix).
static bool map_diffusers_unet(const char *s, const scheme_ctx *c, bool control, char *out, size_t cap) {
  int i, j, L = c->layers_per_block;
  const char *r;
  if ((r = scan(s, "conv_in.")) && param_tail(r)) return put(out, cap, "input_blocks.0.0.%s", r);
  if ((r = scan(s, "time_embedding.linear_1.")) && param_tail(r)) return put(out, cap, "time_embed.0.%s", r);
  if ((r = scan(s, "time_embedding.linear_2.")) && param_tail(r)) return put(out, cap, "time_embed.2.%s", r);
  if ((r = scan(s, "down_blocks.#.resnets.#.", &i, &j)))
    return j < L && put(out, cap, "input_blocks.%d.0.", (L + 1) * i + j + 1) &&
           put_renamed(out, cap, r, unet_resnet, N(unet_resnet));
  if ((r = scan(s, "down_blocks.#.attentions.#.", &i, &j)))
    return j < L && put(out, cap, "input_blocks.%d.1.", (L + 1) * i + j + 1) && put_transformer(out, cap, r);
  if ((r = scan(s, "down_blocks.#.downsamplers.0.conv.", &i)) && param_tail(r))
    return put(out, cap, "input_blocks.%d.0.op.%s", (L + 1) * (i + 1), r);
  if ((r = scan(s, "mid_block.resnets.#.", &j)))
    return j < 2 && put(out, cap, "middle_block.%d.", 2 * j) && put_renamed(out, cap, r, unet_resnet, N(unet_resnet));
  if ((r = scan(s, "mid_block.attentions.0."))) return put(out, cap, "middle_block.1.") && put_transformer(out, cap, r);
  if (control) {
    if ((r = scan(s, "controlnet_cond_embedding.conv_in.")) && param_tail(r))
      return put(out, cap, "input_hint_block.0.%s", r);
    if ((r = scan(s, "controlnet_cond_embedding.blocks.#.", &i)) && param_tail(r))
      return put(out, cap, "input_hint_block.%d.%s", 2 * i + 2, r);
    if ((r = scan(s, "controlnet_cond_embedding.conv_out.")) && param_tail(r))
      return put(out, cap, "input_hint_block.%d.%s", 2 * c->hint_blocks + 2, r);
    if ((r = scan(s, "controlnet_down_blocks.#.", &i)) && param_tail(r))
      return put(out, cap, "zero_convs.%d.0.%s", i, r);
    if ((r = scan(s, "controlnet_mid_block.")) && param_tail(r)) return put(out, cap, "middle_block_out.0.%s", r);
    return false;
  }
  if ((r = scan(s, "up_blocks.#.resnets.#.", &i, &j)))
    return j <= L && put(out, cap, "output_blocks.%d.0.", (L + 1) * i + j) &&
           put_renamed(out, cap, r, unet_resnet, N(unet_resnet));
  if ((r = scan(s, "up_blocks.#.attentions.#.", &i, &j)))
    return j <= L && put(out, cap, "output_blocks.%d.1.", (L + 1) * i + j) && put_transformer(out, cap, r);
  if ((r = scan(s, "up_blocks.#.upsamplers.0.conv.", &i)) && param_tail(r))
    return i < (int)N(c->up_attention) &&
           put(out, cap, "output_blocks.%d.%d.conv.%s", (L + 1) * i + L, c->up_attention[i] ? 2 : 1, r);
  if ((r = scan(s, "conv_norm_out.")) && param_tail(r)) return put(out, cap, "out.0.%s", r);
  if ((r = scan(s, "conv_out.")) && param_tail(r)) return put(out, cap, "out.2.%s", r);
  return false;
}

// diffusers AutoencoderKL name -> LDM name (without prefix). *attention_weight is set for the mid-block
// attention projections, which are Linear [C,C] in diffusers and 1x1 convs [C,C,1,1] in LDM.
static bool map_diffusers_vae(const char *s, const scheme_ctx *c, char *out, size_t cap, bool *attention_weight) {
  int i, j;
  const char *r, *half = starts(s, "encoder.") ? "encoder" : starts(s, "decoder.") ? "decoder" : NULL;
  *attention_weight = false;
  if ((r = scan(s, "quant_conv.")) && param_tail(r)) return put(out, cap, "%s", s);
  if ((r = scan(s, "post_quant_conv.")) && param_tail(r)) return put(out, cap, "%s", s);
  if (!half) return false;
  s += 8;
  if (((r = scan(s, "conv_in.")) || (r = scan(s, "conv_out."))) && param_tail(r))
    return put(out, cap, "%s.%s", half, s);
  if ((r = scan(s, "conv_norm_out.")) && param_tail(r)) return put(out, cap, "%s.norm_out.%s", half, r);
  if ((r = scan(s, "mid_block.resnets.#.", &j)))
    return j < 2 && put(out, cap, "%s.mid.block_%d.", half, j + 1) &&
           put_renamed(out, cap, r, vae_resnet, N(vae_resnet));
  if ((r = scan(s, "mid_block.attentions.0."))) {
    size_t n = strlen(r);
    *attention_weight = n > 7 && !strcmp(r + n - 7, ".weight") && !starts(r, "group_norm.");
    return put(out, cap, "%s.mid.attn_1.", half) && put_renamed(out, cap, r, vae_attention, N(vae_attention));
  }
  if (!strcmp(half, "encoder")) {
    if ((r = scan(s, "down_blocks.#.resnets.#.", &i, &j)))
      return put(out, cap, "encoder.down.%d.block.%d.", i, j) && put_renamed(out, cap, r, vae_resnet, N(vae_resnet));
    if ((r = scan(s, "down_blocks.#.downsamplers.0.conv.", &i)) && param_tail(r))
      return put(out, cap, "encoder.down.%d.downsample.conv.%s", i, r);
  } else {
    if ((r = scan(s, "up_blocks.#.resnets.#.", &i, &j)))
      return i < c->up_blocks && put(out, cap, "decoder.up.%d.block.%d.", c->up_blocks - 1 - i, j) &&
             put_renamed(out, cap, r, vae_resnet, N(vae_resnet));
    if ((r = scan(s, "up_blocks.#.upsamplers.0.conv.", &i)) && param_tail(r))
      return i < c->up_blocks && put(out, cap, "decoder.up.%d.upsample.conv.%s", c->up_blocks - 1 - i, r);
  }
  return false;
}

// Maps one source name to its LDM name. False if the scheme has no LDM name for it.
static bool map_name(dg_name_scheme scheme, const scheme_ctx *c, const char *s, char *out, size_t cap,
                     bool *attention_weight) {
  out[0] = '\0';
  *attention_weight = false;
  switch (scheme) {
  case DG_SCHEME_LDM:
    // Older single files omit `text_model.` inside the CLIP text encoder.
    if (starts(s, DG_LDM_CLIP) && !starts(s + strlen(DG_LDM_CLIP), "text_model."))
      return put(out, cap, DG_LDM_CLIP "text_model.%s", s + strlen(DG_LDM_CLIP));
    return put(out, cap, "%s", s);
  case DG_SCHEME_LDM_UNET: return put(out, cap, DG_LDM_UNET "%s", s);
  case DG_SCHEME_LDM_VAE: return put(out, cap, DG_LDM_VAE "%s", s);
  case DG_SCHEME_LDM_CONTROL: return put(out, cap, DG_LDM_CONTROL "%s", s);
  case DG_SCHEME_HF_CLIP_TEXT: return put(out, cap, DG_LDM_CLIP "%s", s);
  case DG_SCHEME_DIFFUSERS_UNET: return put(out, cap, DG_LDM_UNET) && map_diffusers_unet(s, c, false, out, cap);
  case DG_SCHEME_DIFFUSERS_CONTROL: return put(out, cap, DG_LDM_CONTROL) && map_diffusers_unet(s, c, true, out, cap);
  case DG_SCHEME_DIFFUSERS_VAE: {
    char tmp[MAX_NAME] = "";
    return map_diffusers_vae(s, c, tmp, sizeof tmp, attention_weight) && put(out, cap, DG_LDM_VAE "%s", tmp);
  }
  case DG_SCHEME_OTHER: return put(out, cap, "%s", s);
  }
  return false;
}

const char *dg_name_scheme_name(dg_name_scheme scheme) {
  switch (scheme) {
  case DG_SCHEME_LDM: return "LDM single file";
  case DG_SCHEME_LDM_UNET: return "LDM UNet";
  case DG_SCHEME_LDM_VAE: return "LDM VAE";
  case DG_SCHEME_LDM_CONTROL: return "LDM ControlNet";
  case DG_SCHEME_DIFFUSERS_UNET: return "diffusers UNet";
  case DG_SCHEME_DIFFUSERS_VAE: return "diffusers VAE";
  case DG_SCHEME_DIFFUSERS_CONTROL: return "diffusers ControlNet";
  case DG_SCHEME_HF_CLIP_TEXT: return "transformers CLIP text encoder";
  case DG_SCHEME_OTHER: return "unrecognised names";
  }
  return "?";
}

dg_name_scheme dg_name_scheme_guess(const char *const *names, size_t count) {
  bool ldm = false, cond = false, down = false, temb = false, evae = false, ldm_vae = false, clip = false, hint = false,
       inputs = false, time_embed = false;
  for (size_t i = 0; i < count; i++) {
    const char *s = names[i];
    ldm |= starts(s, DG_LDM_UNET) || starts(s, DG_LDM_VAE) || starts(s, DG_LDM_CLIP) || starts(s, DG_LDM_CONTROL) ||
           starts(s, DG_LDM_OPENCLIP);
    cond |= starts(s, "controlnet_cond_embedding.");
    down |= starts(s, "down_blocks.");
    temb |= starts(s, "time_embedding.");
    evae |= starts(s, "encoder.down_blocks.") || starts(s, "decoder.up_blocks.");
    ldm_vae |= starts(s, "encoder.down.") || starts(s, "decoder.up.");
    clip |= starts(s, "text_model.");
    hint |= starts(s, "input_hint_block.");
    inputs |= starts(s, "input_blocks.");
    time_embed |= starts(s, "time_embed.");
  }
  if (ldm) return DG_SCHEME_LDM;
  if (cond) return DG_SCHEME_DIFFUSERS_CONTROL;
  if (down && temb) return DG_SCHEME_DIFFUSERS_UNET;
  if (evae) return DG_SCHEME_DIFFUSERS_VAE;
  if (ldm_vae) return DG_SCHEME_LDM_VAE;
  if (clip) return DG_SCHEME_HF_CLIP_TEXT;
  if (hint) return DG_SCHEME_LDM_CONTROL;
  if (inputs && time_embed) return DG_SCHEME_LDM_UNET;
  return DG_SCHEME_OTHER;
}

// ---------------------------------------------------------------------------------------------------
static int cmp_entry(const void *a, const void *b) {
  return strcmp(((const entry *)a)->pub.name, ((const entry *)b)->pub.name);
}

void dg_weights_close(dg_weights *w) {
  if (!w) return;
  for (size_t i = 0; i < w->count; i++)
    free((char *)w->entries[i].pub.name);
  free(w->entries);
  for (int i = 0; i < w->nfiles; i++)
    dg_safetensors_close(w->files[i]);
  free(w->tokenizer_dir);
  free(w->path);
  free(w->meta_keys);
  free(w->meta_values);
  free(w);
}

// Opens one file and adds its tensors under their LDM names. `want` forces a scheme (folder
// components); DG_SCHEME_OTHER means guess.
static dg_status add_file(dg_weights *w, const char *path, dg_name_scheme want, dg_name_scheme *got) {
  if (w->nfiles == MAX_FILES) return dg_fail(DG_ERR_ARG, "%s: more than %d files in one model", path, MAX_FILES);
  dg_safetensors *st;
  DG_TRY(dg_safetensors_open(path, &st));
  w->files[w->nfiles] = st;
  int file = w->nfiles++;
  size_t n = dg_safetensors_count(st);
  const char **names = malloc((n + 1) * sizeof *names);
  if (!names) return dg_fail(DG_ERR_OOM, "%s: out of memory", path);
  for (size_t i = 0; i < n; i++)
    names[i] = dg_safetensors_tensor(st, i)->name;
  dg_name_scheme scheme = dg_name_scheme_guess(names, n);
  if (want != DG_SCHEME_OTHER && scheme != want) {
    free(names);
    return dg_fail(DG_ERR_FORMAT, "%s: expected %s tensor names, found %s (e.g. '%.120s')", path,
                   dg_name_scheme_name(want), dg_name_scheme_name(scheme), n ? dg_safetensors_tensor(st, 0)->name : "");
  }
  *got = scheme;
  scheme_ctx ctx;
  scan_ctx(names, n, &ctx);
  free(names);
  if (w->count + n > w->cap) {
    size_t cap = w->cap * 2 > w->count + n ? w->cap * 2 : w->count + n + 16;
    entry *e = realloc(w->entries, cap * sizeof *e);
    if (!e) return dg_fail(DG_ERR_OOM, "%s: out of memory", path);
    w->entries = e;
    w->cap = cap;
  }
  for (size_t i = 0; i < n; i++) {
    const dg_st_tensor *t = dg_safetensors_tensor(st, i);
    if (!t) return dg_fail(DG_ERR_ARG, "%s: tensor %zu of %zu vanished", path, i, n); // cannot happen
    char name[MAX_NAME];
    bool attention_weight;
    if (!map_name(scheme, &ctx, t->name, name, sizeof name, &attention_weight))
      return dg_fail(DG_ERR_UNSUPPORTED, "%s: tensor '%.160s' has no LDM name in the %s layout (unsupported variant?)",
                     path, t->name, dg_name_scheme_name(scheme));
    entry *e = &w->entries[w->count];
    memset(e, 0, sizeof *e);
    if (!(e->pub.name = strdup(name))) return dg_fail(DG_ERR_OOM, "%s: out of memory", path);
    w->count++;
    e->file = file;
    e->src = t;
    e->pub.dtype = t->dtype;
    e->pub.ndim = t->ndim;
    memcpy(e->pub.shape, t->shape, sizeof t->shape);
    e->pub.numel = t->numel;
    e->pub.file = dg_safetensors_path(st);
    e->pub.source_name = t->name;
    if (attention_weight && t->ndim == 2) e->pub.ndim = 4, e->pub.shape[2] = e->pub.shape[3] = 1;
  }
  return DG_OK;
}

// Bases hashed in this process, by path and the file's identity (device, inode, size, modification time in
// ns): a model check and then an open of the video layers hash the 10 MB base once, and a base rewritten
// since (a new mtime or size; a rename onto it a new inode) is hashed again, so its refusal stands.
typedef struct hashed_base {
  char *path;
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  char hex[65];
} hashed_base;
#define HASHED_BASES 16
static hashed_base hashed[HASHED_BASES]; // a small ring: a process opens few bases
static int hashed_next;
static GMutex hashed_lock;
static atomic_size_t base_hashes;

size_t dg_weights_base_hashes(void) { return atomic_load(&base_hashes); }

static bool same_file(const hashed_base *h, const char *path, const struct stat *st) {
  return h->path && !strcmp(h->path, path) && h->dev == st->st_dev && h->ino == st->st_ino &&
         h->size == st->st_size && h->mtime.tv_sec == st->st_mtim.tv_sec && h->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

// The SHA-256 of the file at `path` as lowercase hex into hex[65].
static dg_status file_sha256(const char *path, char hex[65]) {
  FILE *f = fopen(path, "rb");
  if (!f) return dg_fail(DG_ERR_IO, "%s: %s", path, strerror(errno));
  atomic_fetch_add(&base_hashes, 1);
  GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
  unsigned char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    g_checksum_update(sum, buf, n);
  bool failed = ferror(f);
  fclose(f);
  snprintf(hex, 65, "%s", g_checksum_get_string(sum));
  g_checksum_free(sum);
  return failed ? dg_fail(DG_ERR_IO, "%s: read error", path) : DG_OK;
}

// file_sha256 once per (path, identity) in the process. The identity is taken before hashing, so a file
// changed while it is read is hashed again next time.
static dg_status base_sha256(const char *path, char hex[65]) {
  struct stat st;
  if (stat(path, &st) != 0) return dg_fail(DG_ERR_IO, "%s: %s", path, strerror(errno));
  g_mutex_lock(&hashed_lock);
  bool found = false;
  for (int i = 0; i < HASHED_BASES && !found; i++)
    if ((found = same_file(&hashed[i], path, &st))) memcpy(hex, hashed[i].hex, 65);
  g_mutex_unlock(&hashed_lock);
  if (found) return DG_OK;
  DG_TRY(file_sha256(path, hex));
  g_mutex_lock(&hashed_lock);
  hashed_base *h = &hashed[hashed_next];
  hashed_next = (hashed_next + 1) % HASHED_BASES;
  free(h->path);
  *h = (hashed_base){.path = strdup(path), .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
                     .mtime = st.st_mtim};
  memcpy(h->hex, hex, 65);
  g_mutex_unlock(&hashed_lock);
  return DG_OK;
}

// A layers file (a video model's temporal layers over the image UNet they were trained with) names the
// checkpoint it extends in its metadata: "dirigent.base", a file name in the same folder, and
// "dirigent.base_sha256", that file's SHA-256 when the layers were trained over it. The store then holds the
// tensors of both; a base that changed since (a retrained UNet) is refused rather than silently mixed.
static dg_status add_base(dg_weights *w, const char *path) {
  const char *base = dg_safetensors_metadata(w->files[0], "dirigent.base");
  if (!base) return DG_OK;
  const char *want = dg_safetensors_metadata(w->files[0], "dirigent.base_sha256");
  if (!*base || strchr(base, '/') || !strcmp(base, ".") || !strcmp(base, ".."))
    return dg_fail(DG_ERR_FORMAT, "%s: metadata dirigent.base '%.120s' is not a file name in the same folder", path,
                   base);
  if (!want || strlen(want) != 64)
    return dg_fail(DG_ERR_FORMAT, "%s: metadata dirigent.base '%.120s' without a 64-digit dirigent.base_sha256", path,
                   base);
  char *dir = g_path_get_dirname(path), *base_path = g_build_filename(dir, base, NULL);
  g_free(dir);
  char got[65];
  dg_name_scheme scheme;
  dg_status s = base_sha256(base_path, got);
  if (s == DG_OK && g_ascii_strcasecmp(got, want))
    s = dg_fail(DG_ERR_FORMAT, "%s: its layers were trained over %s with SHA-256 %.64s, but that file is now %s "
                "(retrained?): export the layers again over it", path, base_path, want, got);
  if (s == DG_OK) s = add_file(w, base_path, DG_SCHEME_OTHER, &scheme);
  if (s == DG_OK && dg_safetensors_metadata(w->files[1], "dirigent.base"))
    s = dg_fail(DG_ERR_FORMAT, "%s: its base %s names a base of its own (one level only)", path, base_path);
  g_free(base_path);
  return s;
}

typedef struct meta_ref {
  const char *key, *value;
  size_t order; // file-major position
} meta_ref;

static int cmp_meta_key(const void *a, const void *b) {
  const meta_ref *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int cmp_meta_order(const void *a, const void *b) {
  const meta_ref *x = a, *y = b;
  return (x->order > y->order) - (x->order < y->order);
}

// The files' metadata merged once, in file order, a key of an earlier file shadowing later ones: sorting
// keeps it O(n log n) (a file may carry 100k entries).
static dg_status merge_metadata(dg_weights *w) {
  size_t n = 0, kept = 0;
  for (int f = 0; f < w->nfiles; f++)
    n += dg_safetensors_metadata_count(w->files[f]);
  if (!n) return DG_OK;
  meta_ref *r = malloc(n * sizeof *r);
  w->meta_keys = malloc(n * sizeof *w->meta_keys);
  w->meta_values = malloc(n * sizeof *w->meta_values);
  if (!r || !w->meta_keys || !w->meta_values) {
    free(r);
    return dg_memory_fail("the merged metadata", n * (sizeof *r + 2 * sizeof(char *)));
  }
  for (int f = 0, at = 0; f < w->nfiles; f++)
    for (size_t i = 0; i < dg_safetensors_metadata_count(w->files[f]); i++, at++) {
      dg_safetensors_metadata_at(w->files[f], i, &r[at].key, &r[at].value);
      r[at].order = (size_t)at;
    }
  qsort(r, n, sizeof *r, cmp_meta_key);
  for (size_t i = 0; i < n; i++)
    if (!kept || strcmp(r[kept - 1].key, r[i].key)) r[kept++] = r[i];
  qsort(r, kept, sizeof *r, cmp_meta_order);
  for (size_t i = 0; i < kept; i++)
    w->meta_keys[i] = r[i].key, w->meta_values[i] = r[i].value;
  w->meta_count = kept;
  free(r);
  return DG_OK;
}

static dg_status finish(dg_weights *w) {
  if (w->count) qsort(w->entries, w->count, sizeof *w->entries, cmp_entry); // an empty table may be NULL
  for (size_t i = 1; i < w->count; i++)
    if (!strcmp(w->entries[i - 1].pub.name, w->entries[i].pub.name))
      return dg_fail(DG_ERR_FORMAT, "%s: '%.160s' in %s and '%.160s' in %s both map to '%.160s'", w->path,
                     w->entries[i - 1].pub.source_name, w->entries[i - 1].pub.file, w->entries[i].pub.source_name,
                     w->entries[i].pub.file, w->entries[i].pub.name);
  return merge_metadata(w);
}

static bool is_file(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

// Finds the weights file of a diffusers component folder (safetensors first, then PyTorch's .bin
// checkpoints); *found is false if there is none.
static dg_status component_file(const char *dir, const char *sub, char *path, size_t cap, bool *found) {
  static const char *const names[] = {"diffusion_pytorch_model.safetensors", "model.safetensors",
                                      "diffusion_pytorch_model.fp16.safetensors", "model.fp16.safetensors",
                                      "diffusion_pytorch_model.bin", "pytorch_model.bin",
                                      "diffusion_pytorch_model.fp16.bin", "pytorch_model.fp16.bin"};
  *found = false;
  for (size_t i = 0; i < N(names); i++) {
    snprintf(path, cap, "%s/%s%s%s", dir, sub, *sub ? "/" : "", names[i]);
    if (is_file(path)) {
      *found = true;
      return DG_OK;
    }
  }
  return DG_OK;
}

static dg_status open_dir(dg_weights *w, const char *dir) {
  static const struct {
    const char *sub;
    dg_name_scheme scheme;
  } parts[] = {{"unet", DG_SCHEME_DIFFUSERS_UNET},
               {"vae", DG_SCHEME_DIFFUSERS_VAE},
               {"text_encoder", DG_SCHEME_HF_CLIP_TEXT},
               {"controlnet", DG_SCHEME_DIFFUSERS_CONTROL}};
  char path[4096];
  bool found;
  dg_name_scheme got;
  for (size_t i = 0; i < N(parts); i++) {
    DG_TRY(component_file(dir, parts[i].sub, path, sizeof path, &found));
    if (found) DG_TRY(add_file(w, path, parts[i].scheme, &got));
  }
  snprintf(path, sizeof path, "%s/tokenizer/vocab.json", dir);
  if (is_file(path)) {
    snprintf(path, sizeof path, "%s/tokenizer/merges.txt", dir);
    if (!is_file(path)) return dg_fail(DG_ERR_FORMAT, "%s/tokenizer: vocab.json without merges.txt", dir);
    snprintf(path, sizeof path, "%s/tokenizer", dir);
    if (!(w->tokenizer_dir = strdup(path))) return dg_fail(DG_ERR_OOM, "%s: out of memory", dir);
  }
  if (w->nfiles > 0) {
    w->layout = "diffusers folder";
    return DG_OK;
  }
  // A single-component folder (e.g. a downloaded ControlNet): the weights file at its top.
  DG_TRY(component_file(dir, "", path, sizeof path, &found));
  if (!found)
    return dg_fail(DG_ERR_FORMAT,
                   "%s: no model files found (expected unet/, vae/, text_encoder/ or controlnet/ with "
                   "diffusion_pytorch_model.safetensors, model.safetensors or their PyTorch .bin)",
                   dir);
  DG_TRY(add_file(w, path, DG_SCHEME_OTHER, &got));
  w->layout = dg_name_scheme_name(got);
  return DG_OK;
}

dg_status dg_weights_open(const char *path, dg_weights **out) {
  *out = NULL;
  if (!path) return dg_fail(DG_ERR_ARG, "dg_weights_open: NULL path");
  struct stat sb;
  if (stat(path, &sb) != 0) return dg_fail(DG_ERR_IO, "%s: %s", path, strerror(errno));
  if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode))
    return dg_fail(DG_ERR_IO, "%s: not a model file or folder (a FIFO, device or socket)", path);
  dg_weights *w = calloc(1, sizeof *w);
  if (!w || !(w->path = strdup(path))) {
    free(w);
    return dg_fail(DG_ERR_OOM, "%s: out of memory", path);
  }
  dg_status s;
  if (S_ISDIR(sb.st_mode))
    s = open_dir(w, path);
  else {
    dg_name_scheme got;
    s = add_file(w, path, DG_SCHEME_OTHER, &got);
    w->layout = dg_name_scheme_name(got);
    if (s == DG_OK) s = add_base(w, path);
  }
  if (s == DG_OK) s = finish(w);
  if (s != DG_OK) {
    dg_weights_close(w);
    return s;
  }
  *out = w;
  return DG_OK;
}

const char *dg_weights_layout(const dg_weights *w) { return w->layout; }
const char *dg_weights_path(const dg_weights *w) { return w->path; }
size_t dg_weights_count(const dg_weights *w) { return w->count; }
const dg_weight *dg_weights_at(const dg_weights *w, size_t index) {
  return index < w->count ? &w->entries[index].pub : NULL;
}
const char *dg_weights_tokenizer_dir(const dg_weights *w) { return w->tokenizer_dir; }

const dg_weight *dg_weights_find(const dg_weights *w, const char *ldm_name) {
  if (!ldm_name) return NULL;
  entry key = {.pub.name = ldm_name};
  const entry *e = w->count ? bsearch(&key, w->entries, w->count, sizeof key, cmp_entry) : NULL;
  return e ? &e->pub : NULL;
}

bool dg_weights_has_prefix(const dg_weights *w, const char *prefix) {
  size_t lo = 0, hi = w->count, n = strlen(prefix);
  while (lo < hi) { // first name >= prefix
    size_t mid = (lo + hi) / 2;
    if (strcmp(w->entries[mid].pub.name, prefix) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < w->count && strncmp(w->entries[lo].pub.name, prefix, n) == 0;
}

const dg_weight *dg_weights_findf(const dg_weights *w, const char *fmt, ...) {
  char name[MAX_NAME];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  return n >= 0 && (size_t)n < sizeof name ? dg_weights_find(w, name) : NULL;
}

static const entry *entry_of(const dg_weights *w, const dg_weight *t) {
  return t >= &w->entries[0].pub && t < &w->entries[w->count].pub ? (const entry *)t : NULL;
}

// The index of the first NaN or infinity among n values of dtype at p (all exponent bits set), or n.
// Blocks are tested with a branch-free loop the compiler vectorises; only a bad block is searched.
static size_t first_non_finite(const void *p, dg_dtype dtype, size_t n) {
  enum { BLOCK = 4096 };
  for (size_t b = 0; b < n; b += BLOCK) {
    size_t end = n - b < BLOCK ? n : b + BLOCK;
    unsigned bad = 0;
    if (dtype == DG_F32) {
      const uint32_t *u = p;
      for (size_t i = b; i < end; i++)
        bad |= (u[i] & 0x7f800000u) == 0x7f800000u;
      for (size_t i = b; bad && i < end; i++)
        if ((u[i] & 0x7f800000u) == 0x7f800000u) return i;
    } else {
      const uint16_t *h = p;
      for (size_t i = b; i < end; i++)
        bad |= (h[i] & 0x7c00u) == 0x7c00u;
      for (size_t i = b; bad && i < end; i++)
        if ((h[i] & 0x7c00u) == 0x7c00u) return i;
    }
  }
  return n;
}

dg_status dg_weights_read(const dg_weights *w, const dg_weight *t, dg_dtype dtype, void *dst, size_t dst_bytes) {
  const entry *e = entry_of(w, t);
  if (!e) return dg_fail(DG_ERR_ARG, "dg_weights_read: tensor is not from this store");
  DG_TRY(dg_safetensors_read(w->files[e->file], e->src, dtype, dst, dst_bytes));
  size_t n = (size_t)t->numel, bad = first_non_finite(dst, dtype, n);
  if (bad == n) return DG_OK;
  bool narrowed = dtype == DG_F16 && t->dtype != DG_ST_F16;
  return dg_fail(DG_ERR_FORMAT, "%s: tensor '%.160s' holds %s at element %zu of %zu: the weights are damaged%s",
                 t->file, t->source_name, narrowed ? "NaN, infinity or a value past f16's range" : "NaN or infinity",
                 bad, n, narrowed ? " or need f32" : "");
}

typedef struct read_job {
  const dg_weights *w;
  const dg_weight *t;
  dg_dtype dtype;
} read_job;

static dg_status read_into(void *ctx, void *dst, size_t bytes) {
  const read_job *j = ctx;
  return dg_weights_read(j->w, j->t, j->dtype, dst, bytes);
}

dg_status dg_weights_load(const dg_weights *w, const char *ldm_name, dg_arena *arena, dg_dtype dtype, dg_tensor *out) {
  const dg_weight *t = dg_weights_find(w, ldm_name);
  if (!t) return dg_fail(DG_ERR_ARG, "%s: no tensor '%.160s'", w->path, ldm_name ? ldm_name : "(null)");
  if (t->ndim > DG_MAX_DIMS)
    return dg_fail(DG_ERR_UNSUPPORTED, "%s: tensor '%.160s' has %d dims; tensors hold at most %d", w->path, t->name,
                   t->ndim, DG_MAX_DIMS);
  int64_t one = 1;
  dg_tensor tmp;
  DG_TRY(dg_tensor_alloc(arena, dtype, t->ndim ? t->ndim : 1, t->ndim ? t->shape : &one, &tmp));
  read_job job = {w, t, dtype};
  DG_TRY(dg_range_produce(tmp.data, (size_t)t->numel * dg_dtype_size(dtype), read_into, &job));
  *out = tmp;
  return DG_OK;
}

dg_status dg_weights_load_shaped(const dg_weights *w, const char *ldm_name, int ndim, const int64_t *shape,
                                 dg_arena *arena, dg_dtype dtype, dg_tensor *out) {
  const dg_weight *t = dg_weights_find(w, ldm_name);
  if (!t) return dg_fail(DG_ERR_FORMAT, "%s: missing tensor '%.160s'", w->path, ldm_name ? ldm_name : "(null)");
  bool same = t->ndim == ndim;
  for (int i = 0; same && i < ndim; i++)
    same = t->shape[i] == shape[i];
  if (!same) {
    char want[160] = "", got[160] = "";
    for (int i = 0; i < ndim && i < DG_ST_MAX_DIMS; i++)
      put(want, sizeof want, "%s%lld", i ? ", " : "", (long long)shape[i]);
    for (int i = 0; i < t->ndim; i++)
      put(got, sizeof got, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    return dg_fail(DG_ERR_FORMAT, "%s: tensor '%.160s' has shape [%s], the model expects [%s]", w->path, t->name, got,
                   want);
  }
  return dg_weights_load(w, ldm_name, arena, dtype, out);
}

// ---------------------------------------------------------------------------------------------------
// Detection. Helpers look names up as printf-formatted LDM names.
static const dg_weight *findf(const dg_weights *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const dg_weight *findf(const dg_weights *w, const char *fmt, ...) {
  char name[MAX_NAME];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  return dg_weights_find(w, name);
}

static bool hasf(const dg_weights *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool hasf(const dg_weights *w, const char *fmt, ...) {
  char name[MAX_NAME];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  return dg_weights_has_prefix(w, name);
}

// Requires tensor P+name with `ndim` dims; returns it or fails naming what is wrong.
static dg_status need(const dg_weights *w, const char *prefix, const char *name, int ndim, const dg_weight **out) {
  const dg_weight *t = findf(w, "%s%s", prefix, name);
  if (!t) return dg_fail(DG_ERR_FORMAT, "%s: missing tensor '%s%s'", w->path, prefix, name);
  if (t->ndim != ndim)
    return dg_fail(DG_ERR_FORMAT, "%s: tensor '%s%s' has %d dims, expected %d", w->path, prefix, name, t->ndim, ndim);
  for (int i = 0; i < ndim; i++)
    if (t->shape[i] < 1 || t->shape[i] > (1 << 24))
      return dg_fail(DG_ERR_FORMAT, "%s: tensor '%s%s' has dim %d of size %lld", w->path, prefix, name, i,
                     (long long)t->shape[i]);
  *out = t;
  return DG_OK;
}

static dg_status detect_unet(const dg_weights *w, const char *P, bool decoder, dg_unet_config *c) {
  memset(c, 0, sizeof *c);
  const dg_weight *t;
  DG_TRY(need(w, P, "input_blocks.0.0.weight", 4, &t));
  c->model_channels = (int)t->shape[0];
  c->in_channels = (int)t->shape[1];
  DG_TRY(need(w, P, "time_embed.0.weight", 2, &t));
  c->time_embed_dim = (int)t->shape[0];
  int level = 0, in_level = 0, first_attention = -1;
  int k = 1;
  for (; hasf(w, "%sinput_blocks.%d.", P, k); k++) {
    if (findf(w, "%sinput_blocks.%d.0.op.weight", P, k)) {
      if (level == 0)
        c->num_res_blocks = in_level;
      else if (in_level != c->num_res_blocks)
        return dg_fail(DG_ERR_FORMAT, "%s: %sinput_blocks: level %d has %d ResBlocks, level 0 has %d", w->path, P,
                       level, in_level, c->num_res_blocks);
      if (++level >= DG_MAX_LEVELS)
        return dg_fail(DG_ERR_UNSUPPORTED, "%s: more than %d UNet levels", w->path, DG_MAX_LEVELS);
      in_level = 0;
      continue;
    }
    char name[MAX_NAME];
    snprintf(name, sizeof name, "input_blocks.%d.0.out_layers.3.weight", k);
    DG_TRY(need(w, P, name, 4, &t));
    if (t->shape[0] % c->model_channels)
      return dg_fail(DG_ERR_FORMAT, "%s: %s%s has %lld channels, not a multiple of model_channels %d", w->path, P, name,
                     (long long)t->shape[0], c->model_channels);
    int mult = (int)(t->shape[0] / c->model_channels);
    if (in_level > 0 && mult != c->channel_mult[level])
      return dg_fail(DG_ERR_FORMAT, "%s: %s%s changes the channel count inside level %d", w->path, P, name, level);
    c->channel_mult[level] = mult;
    if (findf(w, "%sinput_blocks.%d.1.proj_in.weight", P, k)) {
      c->attention[level] = true;
      if (first_attention < 0) first_attention = k;
    }
    in_level++;
  }
  if (k == 1) return dg_fail(DG_ERR_FORMAT, "%s: %sinput_blocks.1 is missing", w->path, P);
  if (level == 0)
    c->num_res_blocks = in_level;
  else if (in_level != c->num_res_blocks)
    return dg_fail(DG_ERR_FORMAT, "%s: %sinput_blocks: last level has %d ResBlocks, level 0 has %d", w->path, P,
                   in_level, c->num_res_blocks);
  c->num_levels = level + 1;
  if (!hasf(w, "%smiddle_block.0.", P) || !hasf(w, "%smiddle_block.2.", P))
    return dg_fail(DG_ERR_FORMAT, "%s: %smiddle_block ResBlocks are missing", w->path, P);
  c->mid_attention = findf(w, "%smiddle_block.1.proj_in.weight", P) != NULL;
  char blk[64];
  if (first_attention >= 0)
    snprintf(blk, sizeof blk, "input_blocks.%d.1.", first_attention);
  else
    snprintf(blk, sizeof blk, "middle_block.1.");
  if (first_attention >= 0 || c->mid_attention) {
    char name[MAX_NAME];
    snprintf(name, sizeof name, "%stransformer_blocks.0.attn2.to_k.weight", blk);
    DG_TRY(need(w, P, name, 2, &t));
    c->context_dim = (int)t->shape[1];
    t = findf(w, "%s%sproj_in.weight", P, blk);
    c->linear_proj = t && t->ndim == 2;
    while (hasf(w, "%s%stransformer_blocks.%d.", P, blk, c->transformer_depth))
      c->transformer_depth++;
  }
  if (decoder) {
    int expect = c->num_levels * (c->num_res_blocks + 1);
    if (!hasf(w, "%soutput_blocks.%d.", P, expect - 1) || hasf(w, "%soutput_blocks.%d.", P, expect))
      return dg_fail(DG_ERR_FORMAT, "%s: %soutput_blocks do not number %d (%d levels x %d blocks)", w->path, P, expect,
                     c->num_levels, c->num_res_blocks + 1);
    DG_TRY(need(w, P, "out.2.weight", 4, &t));
    c->out_channels = (int)t->shape[0];
  }
  return DG_OK;
}

static dg_status detect_vae(const dg_weights *w, dg_vae_config *c) {
  const char *P = DG_LDM_VAE;
  const dg_weight *t;
  memset(c, 0, sizeof *c);
  c->has_encoder = hasf(w, "%sencoder.", P);
  c->has_decoder = hasf(w, "%sdecoder.", P);
  if (c->has_encoder) {
    DG_TRY(need(w, P, "encoder.conv_in.weight", 4, &t));
    c->ch = (int)t->shape[0];
    c->in_channels = (int)t->shape[1];
    while (hasf(w, "%sencoder.down.%d.", P, c->num_levels)) {
      if (c->num_levels == DG_MAX_LEVELS)
        return dg_fail(DG_ERR_UNSUPPORTED, "%s: more than %d VAE levels", w->path, DG_MAX_LEVELS);
      char name[MAX_NAME];
      snprintf(name, sizeof name, "encoder.down.%d.block.0.conv2.weight", c->num_levels);
      DG_TRY(need(w, P, name, 4, &t));
      c->ch_mult[c->num_levels++] = (int)(t->shape[0] / (c->ch ? c->ch : 1));
    }
    while (hasf(w, "%sencoder.down.0.block.%d.", P, c->num_res_blocks))
      c->num_res_blocks++;
  }
  if (c->has_decoder) {
    DG_TRY(need(w, P, "decoder.conv_in.weight", 4, &t));
    c->z_channels = (int)t->shape[1];
    DG_TRY(need(w, P, "decoder.conv_out.weight", 4, &t));
    c->out_channels = (int)t->shape[0];
    if (!c->has_encoder) {
      c->ch = (int)t->shape[1];
      while (hasf(w, "%sdecoder.up.%d.", P, c->num_levels) && c->num_levels < DG_MAX_LEVELS)
        c->num_levels++;
    }
  }
  if ((t = findf(w, "%spost_quant_conv.weight", P)))
    c->embed_dim = (int)t->shape[1];
  else if ((t = findf(w, "%squant_conv.weight", P)))
    c->embed_dim = (int)t->shape[0] / 2;
  return DG_OK;
}

static dg_status detect_clip(const dg_weights *w, dg_clip_config *c) {
  const char *P = DG_LDM_CLIP "text_model.";
  const dg_weight *t;
  memset(c, 0, sizeof *c);
  DG_TRY(need(w, P, "embeddings.token_embedding.weight", 2, &t));
  c->vocab = (int)t->shape[0];
  c->width = (int)t->shape[1];
  DG_TRY(need(w, P, "embeddings.position_embedding.weight", 2, &t));
  c->max_positions = (int)t->shape[0];
  while (hasf(w, "%sencoder.layers.%d.", P, c->layers))
    c->layers++;
  if (c->layers == 0) return dg_fail(DG_ERR_FORMAT, "%s: CLIP text encoder without %sencoder.layers", w->path, P);
  DG_TRY(need(w, P, "encoder.layers.0.mlp.fc1.weight", 2, &t));
  c->mlp_dim = (int)t->shape[0];
  DG_TRY(need(w, P, "final_layer_norm.weight", 1, &t));
  return DG_OK;
}

static dg_status detect_openclip(const dg_weights *w, dg_clip_config *c) {
  const char *P = DG_LDM_OPENCLIP;
  const dg_weight *t;
  memset(c, 0, sizeof *c);
  DG_TRY(need(w, P, "token_embedding.weight", 2, &t));
  c->vocab = (int)t->shape[0];
  c->width = (int)t->shape[1];
  DG_TRY(need(w, P, "positional_embedding", 2, &t));
  c->max_positions = (int)t->shape[0];
  while (hasf(w, "%stransformer.resblocks.%d.", P, c->layers))
    c->layers++;
  if (c->layers == 0)
    return dg_fail(DG_ERR_FORMAT, "%s: OpenCLIP text tower without %stransformer.resblocks", w->path, P);
  DG_TRY(need(w, P, "transformer.resblocks.0.mlp.c_fc.weight", 2, &t));
  c->mlp_dim = (int)t->shape[0];
  DG_TRY(need(w, P, "ln_final.weight", 1, &t));
  return DG_OK;
}

static dg_status detect_control(const dg_weights *w, dg_control_config *c) {
  const char *P = DG_LDM_CONTROL;
  memset(c, 0, sizeof *c);
  DG_TRY(detect_unet(w, P, false, &c->body));
  const dg_weight *t;
  DG_TRY(need(w, P, "input_hint_block.0.weight", 4, &t));
  c->hint_channels = (int)t->shape[1];
  for (int i = 0; i < 64; i += 2)
    c->hint_convs += findf(w, "%sinput_hint_block.%d.weight", P, i) != NULL;
  while (findf(w, "%szero_convs.%d.0.weight", P, c->zero_convs))
    c->zero_convs++;
  DG_TRY(need(w, P, "middle_block_out.0.weight", 4, &t));
  int want = c->body.num_levels * (c->body.num_res_blocks + 1);
  if (c->zero_convs != want)
    return dg_fail(DG_ERR_FORMAT, "%s: ControlNet has %d zero_convs, its %d input blocks need %d", w->path,
                   c->zero_convs, want, want);
  c->id_hint = c->hint_convs == 5;
  return DG_OK;
}

static void describe_unet(char *out, size_t cap, const dg_unet_config *c) {
  char mult[64] = "", attn[64] = "";
  for (int i = 0; i < c->num_levels; i++) {
    put(mult, sizeof mult, "%s%d", i ? "," : "", c->channel_mult[i]);
    put(attn, sizeof attn, "%s%d", i ? "," : "", c->attention[i]);
  }
  put(out, cap,
      "in %d, out %d, model_channels %d, channel_mult [%s], %d res blocks, attention [%s], context %d, depth %d, %s "
      "proj",
      c->in_channels, c->out_channels, c->model_channels, mult, c->num_res_blocks, attn, c->context_dim,
      c->transformer_depth, c->linear_proj ? "linear" : "conv");
}

dg_status dg_weights_detect(const dg_weights *w, dg_model_info *info) {
  memset(info, 0, sizeof *info);
  char *d = info->description;
  size_t cap = sizeof info->description;
  put(d, cap, "%s:", w->layout);
  if (dg_weights_has_prefix(w, DG_LDM_UNET)) {
    DG_TRY(detect_unet(w, DG_LDM_UNET, true, &info->unet));
    bool temporal = false;
    for (size_t i = 0; i < w->count && !temporal; i++) {
      const char *n = w->entries[i].pub.name;
      temporal = starts(n, DG_LDM_UNET) && (strstr(n, ".temopral_conv.") || starts(n, DG_LDM_UNET "init_attn.") ||
                                            starts(n, DG_LDM_UNET "fps_embedding."));
    }
    info->parts |= temporal ? DG_PART_UNET3D : DG_PART_UNET;
    const char *family = temporal                                                   ? "VideoCrafter2 UNet3D"
                         : info->unet.context_dim == 768 && !info->unet.linear_proj ? "SD 1.x UNet"
                         : info->unet.context_dim == 1024 && info->unet.linear_proj ? "SD 2.x UNet"
                                                                                    : "SD-structured UNet";
    put(d, cap, " %s (", family);
    describe_unet(d, cap, &info->unet);
    put(d, cap, ")");
  }
  if (dg_weights_has_prefix(w, DG_LDM_VAE)) {
    DG_TRY(detect_vae(w, &info->vae));
    info->parts |= DG_PART_VAE;
    dg_vae_config *v = &info->vae;
    char mult[64] = "";
    for (int i = 0; i < v->num_levels; i++)
      put(mult, sizeof mult, "%s%d", i ? "," : "", v->ch_mult[i]);
    put(d, cap, "%s VAE (%s%s%s, ch %d, ch_mult [%s], %d res blocks, z %d, embed %d)",
        info->parts != DG_PART_VAE ? " +" : "", v->has_encoder ? "encoder" : "",
        v->has_encoder && v->has_decoder ? "+" : "", v->has_decoder ? "decoder" : "", v->ch, mult, v->num_res_blocks,
        v->z_channels, v->embed_dim);
  }
  if (dg_weights_has_prefix(w, DG_LDM_CLIP)) {
    DG_TRY(detect_clip(w, &info->clip));
    bool first = !info->parts;
    info->parts |= DG_PART_CLIP_TEXT;
    const dg_clip_config *c = &info->clip;
    put(d, cap, "%s CLIP text (vocab %d, width %d, %d layers, %d positions, mlp %d)", first ? "" : " +", c->vocab,
        c->width, c->layers, c->max_positions, c->mlp_dim);
  }
  if (dg_weights_has_prefix(w, DG_LDM_OPENCLIP)) {
    DG_TRY(detect_openclip(w, &info->openclip));
    bool first = !info->parts;
    info->parts |= DG_PART_OPENCLIP_TEXT;
    const dg_clip_config *c = &info->openclip;
    put(d, cap, "%s OpenCLIP text (vocab %d, width %d, %d layers, %d positions, mlp %d)", first ? "" : " +", c->vocab,
        c->width, c->layers, c->max_positions, c->mlp_dim);
  }
  if (dg_weights_has_prefix(w, DG_LDM_CONTROL)) {
    DG_TRY(detect_control(w, &info->control));
    bool first = !info->parts;
    info->parts |= DG_PART_CONTROLNET;
    const dg_control_config *c = &info->control;
    put(d, cap, "%s ControlNet with %s hint (%d channels, %d convs; ", first ? "" : " +",
        c->id_hint           ? "ALDM id-embedding"
        : c->hint_convs == 8 ? "stock"
                             : "custom",
        c->hint_channels, c->hint_convs);
    describe_unet(d, cap, &c->body);
    put(d, cap, ")");
  }
  // StyleGAN2 (names as in StyleGAN2-ADA, optionally under G./G_ema.).
  for (size_t i = 0; i < w->count; i++) {
    const char *n = w->entries[i].pub.name, *r;
    int res;
    if ((r = strstr(n, "synthesis.b")) && (r == n || r[-1] == '.') && scan(r, "synthesis.b#.", &res)) {
      info->parts |= DG_PART_STYLEGAN2;
      if (res > info->stylegan2.max_res) info->stylegan2.max_res = res;
    }
    int l;
    if ((r = strstr(n, "mapping.fc")) && (r == n || r[-1] == '.') && scan(r, "mapping.fc#.weight", &l)) {
      if (l + 1 > info->stylegan2.mapping_layers) info->stylegan2.mapping_layers = l + 1;
      if (l == 0) info->stylegan2.w_dim = (int)w->entries[i].pub.shape[0];
    }
  }
  if (info->parts & DG_PART_STYLEGAN2)
    put(d, cap, "%s StyleGAN2 generator (up to b%d, %d mapping layers, w_dim %d)",
        info->parts != DG_PART_STYLEGAN2 ? " +" : "", info->stylegan2.max_res, info->stylegan2.mapping_layers,
        info->stylegan2.w_dim);
  if (dg_weights_find(w, "tiny_decoder.conv_in.weight")) {
    put(d, cap, "%s tiny latent decoder", info->parts ? " +" : "");
    info->parts |= DG_PART_TINY_DECODER;
  }
  if (!info->parts) {
    char examples[512] = "";
    for (size_t i = 0; i < w->count && i < 3; i++)
      put(examples, sizeof examples, "%s'%.100s'", i ? ", " : "", w->entries[i].pub.name);
    return dg_fail(DG_ERR_UNSUPPORTED,
                   "%s: no known model among %zu tensors (e.g. %s); expected LDM names (" DG_LDM_UNET ", " DG_LDM_VAE
                   ", " DG_LDM_CLIP ", " DG_LDM_OPENCLIP ", " DG_LDM_CONTROL
                   "), diffusers UNet/VAE/ControlNet names, CLIP text_model.*, "
                   "StyleGAN2 mapping/synthesis or tiny_decoder.*",
                   w->path, w->count, w->count ? examples : "none");
  }
  return DG_OK;
}

const char *dg_weights_metadata(const dg_weights *w, const char *key) {
  for (int i = 0; i < w->nfiles; i++) {
    const char *v = dg_safetensors_metadata(w->files[i], key);
    if (v) return v;
  }
  return NULL;
}

size_t dg_weights_metadata_count(const dg_weights *w) { return w->meta_count; }

void dg_weights_metadata_at(const dg_weights *w, size_t index, const char **key, const char **value) {
  *key = index < w->meta_count ? w->meta_keys[index] : NULL;
  *value = index < w->meta_count ? w->meta_values[index] : NULL;
}

const void *dg_weights_data(const dg_weights *w, const dg_weight *t) {
  const entry *e = entry_of(w, t);
  return e ? dg_safetensors_data(w->files[e->file], e->src) : NULL;
}
