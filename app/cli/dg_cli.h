// Subcommands of dirigent-cli; each returns the process exit status.
#pragma once

int dg_cli_device(int argc, char **argv);
int dg_cli_model(int argc, char **argv);
int dg_cli_convert(int argc, char **argv);
int dg_cli_world(int argc, char **argv);
int dg_cli_generate(int argc, char **argv);
int dg_cli_eval(int argc, char **argv);
int dg_cli_eval_marks(int argc, char **argv); // `eval marks`, called by dg_cli_eval
int dg_cli_eval_video(int argc, char **argv); // `eval video`, called by dg_cli_eval
int dg_cli_layout(int argc, char **argv);
int dg_cli_stylize(int argc, char **argv);
int dg_cli_spectrum(int argc, char **argv);
int dg_cli_video(int argc, char **argv);
int dg_cli_video_generate(int argc, char **argv); // `video generate`, called by dg_cli_video
int dg_cli_world_clip(int argc, char **argv); // `world clip`, called by dg_cli_world
int dg_cli_live(int argc, char **argv);
int dg_cli_augment(int argc, char **argv);

// Shared option values. Each returns false on a bad value; the cfg, seed and side parsers also print
// "CMD: --cfg 'V': guidance is ..." (the rule, from dg_settings) to stderr.
#include <stdbool.h>
#include <stdint.h>

#include "dg_model_set.h"
#include "dg_status.h"
bool dg_cli_parse_long(const char *s, long lo, long hi, long *out);
// A finite decimal in [lo, hi].
bool dg_cli_parse_double(const char *s, double lo, double hi, double *out);
bool dg_cli_parse_cfg(const char *cmd, const char *s, double *out);
bool dg_cli_parse_seed(const char *cmd, const char *s, uint64_t *out);
bool dg_cli_parse_side(const char *cmd, const char *option, const char *s, int *out);

// The sampling options that generate and eval share.
typedef struct dg_cli_sampling {
  const char *model, *sampler;
  int steps;
  double cfg;
  double control_scale; // the layout ControlNet's residual scale; 0: as trained (1)
  uint64_t seed;
  bool have_seed, f16, quiet;
  bool tiny_decoder; // --decoder tiny: the model's tiny decoder (a live frame's) instead of the VAE's
} dg_cli_sampling;
#define DG_CLI_SAMPLING_DEFAULTS {.sampler = "ddim", .steps = 25, .cfg = 7.5}
// A flag without value: true when A is --f16 or --quiet (then set in s).
bool dg_cli_sampling_flag(const char *a, dg_cli_sampling *s);
// A with its value V, one of --model, --steps, --cfg, --control-scale, --seed, --sampler, --decoder: 1 taken, 0 not
// one of them, -1 a bad value (said on stderr as "CMD: ...").
int dg_cli_sampling_option(const char *cmd, const char *a, const char *v, dg_cli_sampling *s);
#define DG_CLI_DECODER_HELP                                                                                            \
  "  --decoder vae|tiny  the latent decoder: the VAE's (default) or the model's tiny decoder, a live\n"                \
  "                      frame's (tiny_decoder.safetensors; an error when the model has none)\n"
// With --decoder tiny, an error naming the model unless its set has a tiny decoder.
dg_status dg_cli_check_decoder(const dg_cli_sampling *s, const dg_model_set *m, const char *model);
// Says on stderr ("CMD: the WHAT is N tokens ...") when `text` has more tokens than the model's text
// encoder reads (75 besides start and end), quoting the part left out.
void dg_cli_warn_cut(const char *cmd, const char *what, const dg_model_set *m, const char *text);

// Video export (cli_video.c), shared by `video export` and `world clip`.
#include "dg_video_export.h"
#define DG_CLI_VIDEO_OPTIONS_HELP                                                                                      \
  "Export options (the format follows OUT: .mp4 H.264, .webm VP9, .gif, or DIR/ for a PNG sequence):\n"                \
  "  --fps N             frames per second, 0.01..240, fractional too: 7.5, 23.976 (default 8)\n"                   \
  "  --format F          mp4, webm, gif or png, whatever OUT is called\n"                                              \
  "  --crf N             H.264/VP9 quality, 0..51, lower is better (default 18 H.264, 28 VP9)\n"                       \
  "  --preset P          libx264 preset (default medium)\n"                                                            \
  "  --cpu-used N        libvpx-vp9 speed 0..8 (default 5)\n"                                                          \
  "  --dither D          GIF: none, ordered (default) or floyd-steinberg\n"                                            \
  "  --png-level N       PNG deflate level 1..9 (default 6)\n"                                                         \
  "Progress goes to stderr; Ctrl+C cancels and leaves no partial file.\n"
// One of the export options above (A with its value V): 1 taken, 0 not one of them, -1 a bad value (said).
int dg_cli_video_option(const char *cmd, const char *a, const char *v, dg_video_export_opts *o, const char **format);
// Parses a command's options: --help (usage to stdout), the export options into o and *format, and the
// command's own `names` (NULL-terminated, each with a value) into values[k]. Returns -1 when parsed, else
// the exit status (0 after --help, 2 for a bad or unknown option, said on stderr with the usage).
#include <stdio.h>
int dg_cli_video_args(const char *cmd, int argc, char **argv, const char *const *names, const char **values,
                      dg_video_export_opts *o, const char **format, void (*usage)(FILE *));
// Ctrl+C from now on raises the flag that cancels dg_cli_video_write's export (a Ctrl+C while the frames
// are still being made cancels it before its first frame).
void dg_cli_video_catch_interrupt(void);
// Exports m to OUT (format: a name, or NULL to follow OUT's name) with a progress line on stderr and
// Ctrl+C as cancel; prints what was written. Returns the exit status (2 bad format, 1 error, 130 cancel).
int dg_cli_video_write(const char *cmd, const char *out, const char *format, const dg_media *m,
                       dg_video_export_opts *o);

// The stylize task's options and inputs (cli_stylize.c), shared by `stylize` and `augment`.
#include "dg_stylize.h"
// A with its value V, one of --method, --strength, --beta, --encoder, --generator: 1 taken, 0 not one of
// them, -1 a bad value (said on stderr as "CMD: ...").
int dg_cli_stylize_option(const char *cmd, const char *a, const char *v, dg_stylize_params *p);
// MNE without --encoder/--generator: the shipped assets/models/mne and stylegan2 (paths returned for g_free).
void dg_cli_stylize_models(dg_stylize_params *p, char **encoder, char **generator);
// A PNG or JPEG (dg_image) of at least 2x2 and at most 8192 on a side, as RGB; errors name the file.
dg_status dg_cli_read_rgb(const char *path, dg_media *out);
// Opens the default device and the stylize task on it.
dg_status dg_cli_open_stylize(dg_device **dev, dg_stylize **st);

// --layout of `generate` and `video generate` (cli_layout.c): the painted layout for `palette`, read by
// dg_layout_read_file (at most `max_side` on a side); how it was read (palette converted, pixels snapped) is
// printed. *width and *height: the size asked for (0: not given) on entry, the layout's size on return. A
// layout of another size is resampled to the size asked for (dg_layout_resize; one side given: the other
// follows the layout's aspect ratio, rounded to a multiple of 8), with a note.
#include "dg_layout_read.h"
dg_status dg_cli_read_layout(const char *path, const dg_palette *palette, int max_side, int *width, int *height,
                             uint8_t **ids);
