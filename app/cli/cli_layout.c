// `dirigent-cli layout convert IN.png OUT.png --to P [--from P]`: a layout painted in one class
// palette rewritten in another by class name (dg_palette_convert), the unmatched classes printed; without
// --from, read as painting programs write layouts (dg_layout_read: anti-aliased edges, noise), so it also
// cleans a painted layout into exact class ids.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_cli.h"
#include "dg_palette.h"
#include "dg_palette_convert.h"
#include "dg_png.h"

static void usage(FILE *f) {
  fprintf(f, "usage: dirigent-cli layout convert IN.png OUT.png --to P [--from P]\n\n"
             "  P: world, ade20k, cityscapes or a palette .json\n"
             "  --from P  the palette IN.png is painted in, read exactly (default: P, else the shipped\n"
             "            palette whose colours it uses; pixels near a class colour (compression\n"
             "            noise) take it, blends along edges (anti-aliasing) their neighbours' class)\n"
             "  OUT.png is an indexed PNG: pixel = class id of --to, its PLTE the class colours.\n"
             "  Classes without a class of the same name (or a synonym, docs/palettes.md) in --to\n"
             "  become unlabelled and are listed.\n");
}

static int convert(int argc, char **argv) {
  const char *in = NULL, *out = NULL, *from = NULL, *to = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help")) {
      usage(stdout);
      return 0;
    }
    if ((!strcmp(argv[i], "--from") || !strcmp(argv[i], "--to")) && i + 1 < argc) {
      *(argv[i][2] == 'f' ? &from : &to) = argv[i + 1];
      i++;
    } else if (argv[i][0] != '-' && !in) in = argv[i];
    else if (argv[i][0] != '-' && !out) out = argv[i];
    else {
      fprintf(stderr, "layout convert: bad argument %s\n", argv[i]);
      return 2;
    }
  }
  if (!in || !out || !to) {
    usage(stderr);
    return 2;
  }
  dg_status s;
  dg_palette *target = dg_palette_load_named(to, &s), *source = NULL;
  if (target && from) source = dg_palette_load_named(from, &s);
  uint8_t *ids = NULL;
  int w = 0, h = 0;
  dg_layout_read_report rep = {.painted_in = from};
  dg_palette_conversion *conv = &rep.conversion;
  if (s == DG_OK && source) {
    dg_png_palette pal;
    dg_palette_to_png(source, &pal);
    s = dg_png_read_label(in, &pal, &w, &h, &ids);
    if (s == DG_OK) dg_palette_convert_ids(source, target, ids, (size_t)w * h, conv);
  } else if (s == DG_OK) {
    s = dg_layout_read_file(in, target, NULL, &w, &h, &ids, &rep);
  }
  if (s == DG_OK) {
    dg_png_palette pal;
    dg_palette_to_png(target, &pal);
    s = dg_png_write_label(out, w, h, ids, &pal, NULL);
  }
  if (s == DG_OK) {
    printf("wrote %s (%dx%d): %s -> %s\n", out, w, h, rep.painted_in, dg_palette_title(target));
    if (conv->unmatched_count)
      printf("unmatched (now unlabelled, %d pixels): %s\n", conv->unmatched_pixels, conv->unmatched);
    if (rep.snapped || rep.filled)
      printf("not exactly a class colour: %zu pixels taken as the nearest class colour, %zu from their neighbours\n",
             rep.snapped, rep.filled);
  } else {
    fprintf(stderr, "dirigent-cli layout convert: %s\n", dg_last_error());
  }
  free(ids);
  dg_palette_free(source);
  dg_palette_free(target);
  return s == DG_OK ? 0 : 1;
}

dg_status dg_cli_read_layout(const char *path, const dg_palette *palette, int max_side, int *width, int *height,
                             uint8_t **ids) {
  dg_layout_read_report rep;
  dg_png_limits lim = {0, 0, max_side};
  int lw = 0, lh = 0, tw = *width, th = *height;
  dg_status s = dg_layout_read_file(path, palette, &lim, &lw, &lh, ids, &rep);
  if (s != DG_OK) return s;
  char how[1600];
  dg_layout_read_summary(&rep, palette, how, sizeof how);
  if (how[0]) printf("layout: %s: %s\n", path, how);
  if (!tw && !th) {
    *width = lw, *height = lh;
    return DG_OK;
  }
  if (!tw) tw = (int)(((int64_t)th * lw / lh + 4) / 8 * 8);
  if (!th) th = (int)(((int64_t)tw * lh / lw + 4) / 8 * 8);
  tw = tw < 8 ? 8 : tw, th = th < 8 ? 8 : th;
  *width = tw, *height = th;
  if (tw == lw && th == lh) return DG_OK;
  uint8_t *resized = malloc((size_t)tw * th);
  if (!resized) return free(*ids), *ids = NULL, dg_fail(DG_ERR_OOM, "the resized layout (%dx%d)", tw, th);
  dg_layout_resize(*ids, lw, lh, resized, tw, th);
  free(*ids);
  *ids = resized;
  printf("layout: %s is %dx%d; resampled to %dx%d (each pixel the most common class of its area)\n", path, lw, lh, tw,
         th);
  return DG_OK;
}

int dg_cli_layout(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "convert")) return convert(argc - 1, argv + 1);
  usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
  return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
}
