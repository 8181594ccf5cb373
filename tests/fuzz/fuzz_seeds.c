// Writes the hand-made seed inputs of the fuzz targets: `fuzz_seeds OUT` fills OUT/<target>/ from the
// repository's fixtures and assets and from the writers of each format (project files, PNGs, a small
// world dataset). tests/fuzz/corpus/ holds these merged with what fuzzing found (tools/fuzz.sh --merge).
// Not run by the tests.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "dg_generation_png.h"
#include "dg_png.h"
#include "dg_project.h"
#include "dg_world.h"
#include "fuzz_util.h"

static const char *out_dir;

static void put(const char *target, const char *name, const void *data, size_t size) {
  char *dir = g_build_filename(out_dir, target, NULL), *path = g_build_filename(dir, name, NULL);
  GError *err = NULL;
  if (g_mkdir_with_parents(dir, 0755) != 0 || !g_file_set_contents(path, data, (gssize)size, &err))
    fuzz_fail("cannot write %s", path);
  g_free(dir);
  g_free(path);
}

static void put_str(const char *target, const char *name, const char *text) { put(target, name, text, strlen(text)); }

static char *slurp(const char *rel, size_t *size) {
  char *path = g_build_filename(DG_SOURCE_DIR, rel, NULL), *data;
  gsize n;
  if (!g_file_get_contents(path, &data, &n, NULL)) fuzz_fail("cannot read %s", path);
  g_free(path);
  *size = n;
  return data;
}

static void copy(const char *target, const char *name, const char *rel) {
  size_t n;
  char *data = slurp(rel, &n);
  put(target, name, data, n);
  g_free(data);
}

// ---- safetensors and JSON ----

static void safetensors_seeds(void) {
  copy("fuzz_safetensors", "stylegan2_tiny.safetensors", "tests/io/data/stylegan2_tiny.safetensors");
  copy("fuzz_safetensors", "unknown.safetensors", "tests/io/data/unknown.safetensors");
  copy("fuzz_safetensors", "text_encoder.safetensors", "tests/io/data/sd15_tiny_diffusers/text_encoder/model.safetensors");
  // Every convertible dtype, a scalar, an empty tensor, an integer one and metadata.
  const char *header = "{\"__metadata__\":{\"format\":\"pt\",\"config\":\"{\\\"a\\\":1}\"},"
                       "\"bf16\":{\"dtype\":\"BF16\",\"shape\":[1,2,1],\"data_offsets\":[0,4]},"
                       "\"empty\":{\"dtype\":\"F16\",\"shape\":[0],\"data_offsets\":[4,4]},"
                       "\"f16\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]},"
                       "\"f32\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,24]},"
                       "\"i64\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[24,32]},"
                       "\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[32,36]}}";
  size_t hl = strlen(header), n = 8 + hl + 36;
  uint8_t *file = calloc(1, n);
  uint64_t len = hl;
  memcpy(file, &len, 8);
  memcpy(file + 8, header, hl);
  const float f[4] = {1, -2, 0.5f, 65504};
  memcpy(file + 8 + hl + 8, f, 16);
  put("fuzz_safetensors", "dtypes.safetensors", file, n);
  free(file);
}

// The header text of a safetensors file.
static char *header_of(const char *rel, size_t *size) {
  size_t n;
  char *data = slurp(rel, &n);
  uint64_t hl;
  memcpy(&hl, data, 8);
  char *h = g_strndup(data + 8, (gsize)hl);
  g_free(data);
  *size = (size_t)hl;
  return h;
}

static void json_seeds(void) {
  put_str("fuzz_json", "escapes.json",
          "{\"a\":[1,-2.5e3,0,true,false,null,{},[]],\"b\":\"x\\\"\\\\\\/\\b\\f\\n\\r\\t\",\"u\":\"\\u00e9\\ud83d\\ude00\"}");
  put_str("fuzz_json", "nested.json", "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]");
  put_str("fuzz_json", "utf8.json", "{\"k\":{\"k\":{\"k\":{\"k\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}}}}");
  put_str("fuzz_json", "numbers.json", "[18446744073709551615,18446744073709551616,-0,0.0e-0,1E+2,123456789012345678901234567890]");
  put_str("fuzz_json", "keys.json", "{\"\\u0000\":1,\"a\\u0000b\":2,\"\":3,\"b\":{\"\":[]}}");
  copy("fuzz_json", "clip.json", "assets/models/clip.json");
  size_t n;
  char *h = header_of("tests/io/data/sd15_tiny_diffusers/text_encoder/model.safetensors", &n);
  put("fuzz_json", "safetensors_header.json", h, n);
  g_free(h);
}

// ---- PNG ----

static void png_chunk(GByteArray *png, const char *type, const void *data, size_t size) {
  uint8_t head[8] = {(uint8_t)(size >> 24), (uint8_t)(size >> 16), (uint8_t)(size >> 8), (uint8_t)size};
  memcpy(head + 4, type, 4);
  g_byte_array_append(png, head, 8);
  if (size) g_byte_array_append(png, data, (guint)size);
  uint32_t crc = (uint32_t)crc32(crc32(0, (const Bytef *)type, 4), data, (uInt)size);
  uint8_t tail[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
  g_byte_array_append(png, tail, 4);
}

// A PNG built chunk by chunk: `raw` is the filtered image data (a filter byte per row), deflated into
// one IDAT; `extra` chunks (type, data, size) go before it.
typedef struct extra_chunk {
  const char *type;
  const void *data;
  size_t size;
} extra_chunk;
static void put_png(const char *target, const char *name, int w, int h, int depth, int color, int interlace,
                    const uint8_t *raw, size_t raw_size, const extra_chunk *extra, int n_extra) {
  GByteArray *png = g_byte_array_new();
  g_byte_array_append(png, (const uint8_t *)"\x89PNG\r\n\x1a\n", 8);
  uint8_t ihdr[13] = {0, 0, 0, (uint8_t)w, 0, 0, 0, (uint8_t)h, (uint8_t)depth, (uint8_t)color, 0, 0, (uint8_t)interlace};
  png_chunk(png, "IHDR", ihdr, 13);
  for (int i = 0; i < n_extra; i++)
    png_chunk(png, extra[i].type, extra[i].data, extra[i].size);
  uLongf zn = compressBound((uLong)raw_size);
  uint8_t *z = malloc(zn);
  if (compress(z, &zn, raw, (uLong)raw_size) != Z_OK) fuzz_fail("compress");
  png_chunk(png, "IDAT", z, zn);
  free(z);
  png_chunk(png, "IEND", NULL, 0);
  put(target, name, png->data, png->len);
  g_byte_array_free(png, TRUE);
}

// Copies a PNG written by the library into the corpus.
static void put_file(const char *target, const char *name, const char *path) {
  gchar *data;
  gsize n;
  if (!g_file_get_contents(path, &data, &n, NULL)) fuzz_fail("cannot read %s", path);
  put(target, name, data, n);
  g_free(data);
}

static void png_seeds(void) {
  const int w = 6, h = 4;
  uint8_t ids[24], rgb[72], rgba[96];
  for (int i = 0; i < w * h; i++) {
    ids[i] = i % 7 == 6 ? DG_PNG_UNLABELLED : (uint8_t)(i % DG_WORLD_NUM_CLASSES);
    memcpy(rgb + 3 * i, dg_world_palette()->rgb[i % DG_WORLD_NUM_CLASSES], 3);
    memcpy(rgba + 4 * i, rgb + 3 * i, 3);
    rgba[4 * i + 3] = i % 5 ? 255 : 0;
  }
  char *path = fuzz_path("seed.png");
  dg_png_text texts[3] = {{"parameters", "a red car\nSteps: 20, Seed: 1"},
                          {"Description", "caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac"},
                          {"Comment", "plain"}};
  dg_png_write_opts o = {.texts = texts, .n_texts = 3};
  if (dg_png_write_label(path, w, h, ids, dg_world_palette(), NULL) != DG_OK) fuzz_fail("%s", dg_last_error());
  put_file("fuzz_png", "label_indexed.png", path);
  if (dg_png_write_rgb8(path, w, h, rgb, &o) != DG_OK) fuzz_fail("%s", dg_last_error());
  put_file("fuzz_png", "label_rgb_texts.png", path);
  if (dg_png_write_rgba8(path, w, h, rgba, NULL) != DG_OK) fuzz_fail("%s", dg_last_error());
  put_file("fuzz_png", "label_rgba.png", path);
  g_free(path);
  // Grey 8-bit ids with a zTXt chunk; 16-bit grey; a 4-bit palette; interlaced RGB; grey+alpha.
  uint8_t raw[4 * (1 + 2 * 6 * 3)];
  memset(raw, 0, sizeof raw);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      raw[y * (1 + w) + 1 + x] = ids[y * w + x];
  uint8_t ztxt[64] = "Comment\0\0";
  uLongf zn = sizeof ztxt - 9;
  compress(ztxt + 9, &zn, (const Bytef *)"compressed text", 15);
  extra_chunk z = {"zTXt", ztxt, 9 + zn};
  put_png("fuzz_png", "grey8_ztxt.png", w, h, 8, 0, 0, raw, (size_t)h * (1 + w), &z, 1);
  put_png("fuzz_png", "grey16.png", w, h, 16, 0, 0, raw, (size_t)h * (1 + 2 * w), NULL, 0);
  uint8_t plte[3 * 16], trns[16];
  for (int i = 0; i < 16; i++)
    plte[3 * i] = (uint8_t)(16 * i), plte[3 * i + 1] = 0, plte[3 * i + 2] = (uint8_t)(255 - 16 * i), trns[i] = 128;
  extra_chunk pal[2] = {{"PLTE", plte, sizeof plte}, {"tRNS", trns, sizeof trns}};
  put_png("fuzz_png", "palette4_trns.png", w, h, 4, 3, 0, raw, (size_t)h * (1 + (w + 1) / 2), pal, 2);
  uint8_t one[4] = {0, 200, 100, 50}; // 1x1 Adam7: only the first pass has a pixel
  uint8_t itxt[] = "Title\0\0\0en\0Titel\0\xc3\xbc";
  extra_chunk it = {"iTXt", itxt, sizeof itxt - 1};
  put_png("fuzz_png", "interlaced_itxt.png", 1, 1, 8, 2, 1, one, 4, &it, 1);
  put_png("fuzz_png", "grey_alpha.png", 2, 1, 8, 4, 0, (const uint8_t *)"\0\1\377\2\0", 5, NULL, 0);
}

static void generation_png_seeds(void) {
  uint8_t rgb[4 * 3 * 3];
  for (size_t i = 0; i < sizeof rgb; i++)
    rgb[i] = (uint8_t)(i * 37);
  char *path = fuzz_path("gen.png");
  dg_generation_info g = {.prompt = "a red car on a road", .negative = "blurry", .sampler = "ddim",
                          .model = "default", .layout = "layout.png", .steps = 20, .width = 4, .height = 3,
                          .cfg = 7.5, .seed = 18446744073709551615ull};
  if (dg_generation_png_write(path, rgb, 3, &g) != DG_OK) fuzz_fail("%s", dg_last_error());
  put_file("fuzz_generation_png", "both_chunks.png", path);
  g.prompt = "caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac\nsecond line", g.layout = "";
  if (dg_generation_png_write(path, rgb, 3, &g) != DG_OK) fuzz_fail("%s", dg_last_error());
  put_file("fuzz_generation_png", "utf8_itxt.png", path);
  g.prompt = "a red car and a tree", g.marks = "red:car, tree", g.guidance = DG_GUIDANCE_DIVIDE_BIND;
  g.control_scale = 1.5;
  if (dg_generation_png_write(path, rgb, 3, &g) != DG_OK) fuzz_fail("%s", dg_last_error());
  put_file("fuzz_generation_png", "marks_guidance.png", path);
  dg_png_text a1111 = {"parameters", "a tree, by the water\nNegative prompt: fog\nSteps: 30, Sampler: Euler a, "
                                     "CFG scale: 6.5, Seed: 42, Size: 512x512, Model: sd15"};
  dg_png_write_opts o = {.texts = &a1111, .n_texts = 1};
  if (dg_png_write_rgb8(path, 4, 3, rgb, &o) != DG_OK) fuzz_fail("%s", dg_last_error());
  put_file("fuzz_generation_png", "a1111_parameters.png", path);
  g_free(path);
}

// ---- project files ----

static void project_seed(const char *name, dg_document *d) {
  size_t n;
  char *text = dg_project_serialize(d, &n);
  put("fuzz_project", name, text, n);
  free(text);
  dg_document_free(d);
}

static void project_seeds(void) {
  dg_document *d = dg_document_new(12, 20);
  dg_document_fill_rect(d, 3, 3, 15, 8, 5);
  dg_document_fill_rect(d, 0, 0, 20, 2, 0);
  dg_document_set_text(d, DG_FIELD_PROMPT, "a tree by the water", false);
  dg_document_set_text(d, DG_FIELD_NEGATIVE, "fog", false);
  dg_document_set_seed(d, 12345678901234ull);
  dg_document_set_steps(d, 30);
  dg_document_set_guidance(d, 6.5);
  dg_document_set_control_scale(d, 2.5);
  dg_result r = {.width = 3, .height = 2, .seed = 7, .steps = 2, .guidance = 1.5, .control_scale = 0.5};
  r.rgba = calloc(24, 1), r.prompt = strdup("x"), r.negative = strdup(""), r.model = strdup("m");
  for (int i = 0; i < 24; i++)
    r.rgba[i] = (uint8_t)(i * 11);
  dg_document_add_result(d, &r);
  project_seed("layout_result.dirigent", d);
  d = dg_document_new(1, 1);
  dg_document_set_text(d, DG_FIELD_PROMPT, "caf\xc3\xa9 \"quoted\" \\ \xe6\x9d\xb1", false);
  dg_document_set_seed_random(d, true);
  project_seed("tiny_unicode.dirigent", d);
}

// ---- models ----

static void model_config_seeds(void) {
  static const char *const names[] = {"clip", "controlnet_aldm", "eval_segmenter", "text_encoder", "unet", "vae"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    char *rel = g_strdup_printf("assets/models/%s.json", names[i]), *name = g_strdup_printf("%s.json", names[i]);
    copy("fuzz_model_config", name, rel);
    g_free(rel);
    g_free(name);
  }
}

static void weights_seeds(void) {
  static const char *const files[][2] = {
      {"sd15_ldm.json", "tests/io/data/sd15_tiny.safetensors"},
      {"stylegan2.json", "tests/io/data/stylegan2_tiny.safetensors"},
      {"unknown.json", "tests/io/data/unknown.safetensors"},
      {"diffusers_unet.json", "tests/io/data/sd15_tiny_diffusers/unet/diffusion_pytorch_model.safetensors"},
      {"diffusers_vae.json", "tests/io/data/sd15_tiny_diffusers/vae/diffusion_pytorch_model.safetensors"},
      {"diffusers_controlnet.json", "tests/io/data/sd15_tiny_diffusers/controlnet/diffusion_pytorch_model.safetensors"},
      {"hf_clip_text.json", "tests/io/data/sd15_tiny_diffusers/text_encoder/model.safetensors"},
      {"dirigent_unet.json", "assets/models/unet.safetensors"},
      {"dirigent_vae.json", "assets/models/vae.safetensors"},
      {"dirigent_text_encoder.json", "assets/models/text_encoder.safetensors"},
      {"dirigent_controlnet_aldm.json", "assets/models/controlnet_aldm.safetensors"},
      {"dirigent_controlnet_baseline.json", "assets/models/controlnet_baseline.safetensors"},
      {"dirigent_clip.json", "assets/models/clip.safetensors"},
      {"dirigent_eval_segmenter.json", "assets/models/eval_segmenter.safetensors"},
  };
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    size_t n;
    char *h = header_of(files[i][1], &n);
    put("fuzz_weights", files[i][0], h, n);
    g_free(h);
  }
  static const char zip[] = "PK\x03\x04\x14\0\0\0\0\0archive/data.pkl", pickle[] = "\x80\x02}q\0X\x0a\0\0\0state_dictq\x01}q\x02s.";
  put("fuzz_weights", "torch_zip.ckpt", zip, sizeof zip - 1);
  put("fuzz_weights", "torch_pickle.ckpt", pickle, sizeof pickle - 1);
}

// ---- tokenizer, palette, world dataset index ----

static void tokenizer_seed(const char *name, const char *dir, const char *prompt) {
  size_t nv, nm;
  char *vocab_rel = g_build_filename(dir, "vocab.json", NULL), *merges_rel = g_build_filename(dir, "merges.txt", NULL);
  char *vocab = slurp(vocab_rel, &nv), *merges = slurp(merges_rel, &nm);
  GString *s = g_string_new_len(vocab, (gssize)nv);
  g_string_append(s, FUZZ_SEPARATOR);
  g_string_append_len(s, merges, (gssize)nm);
  if (prompt) g_string_append(s, FUZZ_SEPARATOR), g_string_append(s, prompt);
  put("fuzz_tokenizer", name, s->str, s->len);
  g_string_free(s, TRUE);
  g_free(vocab), g_free(merges), g_free(vocab_rel), g_free(merges_rel);
}

static void tokenizer_seeds(void) {
  tokenizer_seed("assets_prompt.txt", "assets/tokenizer",
                 "A red car, parked by the sea at night! <|endoftext|> don't 42 caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac");
  tokenizer_seed("sd15_tiny.txt", "tests/io/data/sd15_tiny_diffusers/tokenizer", NULL);
}

static void palette_seeds(void) {
  copy("fuzz_palette", "world.json", "assets/palettes/world.json");
  put_str("fuzz_palette", "two.json",
          "{\"name\":\"two\",\"unlabelled_color\":[1,2,3],\"classes\":[{\"id\":0,\"name\":\"a\",\"color\":[0,0,0]},"
          "{\"id\":1,\"name\":\"b\",\"color\":[0,0,0]}]}");
}

static void world_index_seeds(void) {
  char *dir = fuzz_path("world");
  dg_world_dataset_opts o = {.dir = dir, .split = "val", .count = 3, .width = 64, .height = 32, .threads = 1};
  dg_world_dataset_stats st;
  if (dg_world_dataset(&o, &st) != DG_OK) fuzz_fail("%s", dg_last_error());
  char *index_path = g_build_filename(dir, "index.jsonl", NULL), *index;
  if (!g_file_get_contents(index_path, &index, NULL, NULL)) fuzz_fail("cannot read %s", index_path);
  // Each line names scenes/ID.json: the harness reads scene.json, so the seed names that.
  char **lines = g_strsplit(index, "\n", -1);
  for (int i = 0; lines[i] && lines[i][0]; i++) {
    char *id_at = strstr(lines[i], "\"scene\":");
    if (!id_at) fuzz_fail("index line without a scene: %s", lines[i]);
    char *start = strchr(id_at + 8, '"') + 1, *end = strchr(start, '"');
    char *scene_rel = g_strndup(start, (gsize)(end - start)), *scene_path = g_build_filename(dir, scene_rel, NULL);
    char *scene;
    if (!g_file_get_contents(scene_path, &scene, NULL, NULL)) fuzz_fail("cannot read %s", scene_path);
    GString *s = g_string_new_len(lines[i], start - lines[i]);
    g_string_append(s, "scene.json");
    g_string_append(s, end);
    g_string_append_c(s, '\n');
    if (i == 0) g_string_append(s, lines[1]), g_string_append_c(s, '\n'); // a second line, its scene not read
    g_string_append(s, FUZZ_SEPARATOR);
    g_string_append(s, scene);
    char *name = g_strdup_printf("sample%d.txt", i);
    put("fuzz_world_index", name, s->str, s->len);
    g_free(name), g_string_free(s, TRUE), g_free(scene), g_free(scene_path), g_free(scene_rel);
  }
  g_strfreev(lines);
  g_free(index), g_free(index_path), g_free(dir);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  out_dir = argv[1];
  fuzz_init();
  safetensors_seeds();
  json_seeds();
  png_seeds();
  generation_png_seeds();
  project_seeds();
  model_config_seeds();
  weights_seeds();
  tokenizer_seeds();
  palette_seeds();
  world_index_seeds();
  printf("seeds written to %s\n", out_dir);
  return 0;
}
