// Writes a contact sheet for people to look at: 16 samples covering every time of day, weather and season
// (4 x 4), and 4 video strips (time, weather, season, motion; 8 of 16 frames each), plus the same layout
// in label colours. Usage: test_world_sheet SHEET.png [SMALL.png]. SMALL is a smaller sheet for docs/.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_png.h"
#include "dg_world.h"
#include "world_test.h"

typedef struct canvas {
  int w, h;
  uint8_t *rgb, *lab;
} canvas;

static void blit(canvas *c, int x0, int y0, int w, int h, const uint8_t *rgb, const uint8_t *lab) {
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      int X = x0 + x, Y = y0 + y;
      if (X >= c->w || Y >= c->h) continue;
      memcpy(c->rgb + 3 * ((size_t)Y * c->w + X), rgb + 3 * (y * w + x), 3);
      int id = lab[y * w + x];
      const uint8_t *col = id < DG_WORLD_NUM_CLASSES ? dg_world_classes[id].rgb : (const uint8_t[3]){0, 0, 0};
      memcpy(c->lab + 3 * ((size_t)Y * c->w + X), col, 3);
    }
}

static dg_world_style tile_style(int i) {
  dg_world_style s = {(dg_world_time)(i % 3), (dg_world_weather)(i % 4), (dg_world_season)((i / 4) % 3)};
  if (s.weather == DG_WEATHER_SNOW && s.season == DG_SEASON_SUMMER) s.season = DG_SEASON_WINTER;
  return s;
}

static const uint64_t tile_seeds[16] = {3, 14, 15, 92, 65, 35, 89, 79, 32, 38, 46, 26, 43, 383, 279, 50};

static bool sheet(const char *path, int tw, int th, int n_strips, bool check) {
  int gap = 2, cols = 4, rows = 4, fw = tw / 2, fh = th / 2, frames = 8;
  canvas c = {cols * tw + (cols - 1) * gap, rows * th + (rows - 1) * gap + n_strips * (fh + gap), NULL, NULL};
  size_t n = (size_t)c.w * c.h * 3;
  c.rgb = calloc(n, 1);
  c.lab = calloc(n, 1);
  uint8_t *rgb = malloc((size_t)tw * th * 3), *lab = malloc((size_t)tw * th);
  dg_world_scene *s = malloc(sizeof *s);
  dg_world_clip *clip = malloc(sizeof *clip);
  bool seen_t[DG_TIME_COUNT] = {0}, seen_w[DG_WEATHER_COUNT] = {0}, seen_s[DG_SEASON_COUNT] = {0};
  double means[16];
  for (int i = 0; i < 16; i++) {
    dg_world_style st = tile_style(i);
    seen_t[st.time] = seen_w[st.weather] = seen_s[st.season] = true;
    dg_status r = dg_world_generate(tile_seeds[i], tw, th, st, s);
    if (r == DG_OK) r = dg_world_render(s, rgb, lab, NULL);
    dg_check(r == DG_OK, "tile %d: %s", i, dg_last_error());
    blit(&c, (i % cols) * (tw + gap), (i / cols) * (th + gap), tw, th, rgb, lab);
    double m = 0;
    for (int k = 0; k < tw * th * 3; k++)
      m += rgb[k];
    means[i] = m / (tw * th * 3);
    if (check)
      printf("  tile %2d seed %3llu: %-7s %-6s %-6s %-7s %d objects\n", i, (unsigned long long)tile_seeds[i],
             dg_world_time_names[st.time], dg_world_weather_names[st.weather], dg_world_season_names[st.season],
             dg_world_layout_names[s->layout], s->n_objects);
  }
  for (int k = 0; k < 3; k++)
    dg_check(seen_t[k] && seen_s[k], "sheet covers every time and season");
  for (int k = 0; k < 4; k++)
    dg_check(seen_w[k], "sheet covers every weather");
  int distinct = 0;
  for (int i = 0; i < 16; i++)
    for (int j = i + 1; j < 16; j++)
      distinct += means[i] != means[j];
  dg_check(distinct >= 110, "tiles differ (%d of 120 pairs)", distinct);
  // Video strips: one clip per kind (the kind is seed % 4), every other frame of 16.
  static const uint64_t clip_seeds[4] = {4, 29, 14, 23};
  for (int k = 0; k < n_strips; k++) {
    dg_status r = dg_world_clip_plan(clip_seeds[k], fw, fh, 16, clip);
    dg_check(r == DG_OK, "clip %d: %s", k, dg_last_error());
    if (r != DG_OK) continue;
    if (check) {
      printf("  strip %d: %s (%s):", k, clip->caption, dg_world_clip_names[clip->kind]);
      for (int g = 0; g < clip->n_stages; g++)
        printf(" [%d-%d] %s;", clip->stages[g].start, clip->stages[g].end, clip->stages[g].text);
      printf("\n");
    }
    for (int f = 0; f < frames; f++) {
      dg_world_clip_frame(clip, f * 2 + 1, s);
      dg_world_render_ex(s, rgb, lab, NULL, false, false);
      blit(&c, f * (fw + gap), rows * (th + gap) + k * (fh + gap), fw, fh, rgb, lab);
    }
  }
  dg_png_write_opts o = {.level = 9};
  bool ok = dg_png_write_rgb8(path, c.w, c.h, c.rgb, &o) == DG_OK;
  dg_check(ok, "write %s: %s", path, dg_last_error());
  if (check) {
    char lp[1024];
    snprintf(lp, sizeof lp, "%.*s-labels.png", (int)(strlen(path) - 4), path);
    dg_check(dg_png_write_rgb8(lp, c.w, c.h, c.lab, &o) == DG_OK, "write %s", lp);
    printf("wrote %s and %s (%dx%d)\n", path, lp, c.w, c.h);
  }
  free(c.rgb);
  free(c.lab);
  free(rgb);
  free(lab);
  free(s);
  free(clip);
  return ok;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "world-contact-sheet.png";
  sheet(path, 256, 128, 4, true);
  if (argc > 2) sheet(argv[2], 160, 80, 2, false);
  return dg_check_finish("test_world_sheet");
}
