// dirigent-cli: the headless entry point. Dispatches to one subcommand per file.
#include <stdio.h>
#include <string.h>

#include "dg_cli.h"

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *help;
} command;

static const command commands[] = {
    {"device", dg_cli_device, "report the Vulkan device and run the op self-test"},
    {"model", dg_cli_model, "validate a checkpoint file or diffusers folder and report its models"},
    {"convert", dg_cli_convert, "write a checkpoint (.ckpt/.pt/.bin, diffusers) as .safetensors with LDM names"},
    {"generate", dg_cli_generate, "text- or layout-to-image with the embedded or a given model"},
    {"eval", dg_cli_eval, "evaluate t2i, l2i or attention guidance (marks) with the engine's own metrics"},
    {"world", dg_cli_world, "procedural world: sample scenes, write datasets, export a clip as video"},
    {"live", dg_cli_live, "replay a recorded editing session in live mode; frames, latencies (docs/cli.md)"},
    {"stylize", dg_cli_stylize, "the content of one image in the style of others (FDA, or the Masked Noise Encoder)"},
    {"augment", dg_cli_augment, "a style-augmented copy of a labelled world dataset (labels kept), for segmenters"},
    {"spectrum", dg_cli_spectrum, "an image's radial power spectrum as JSON"},
    {"layout", dg_cli_layout, "convert a layout PNG between class palettes by class name"},
    {"video", dg_cli_video,
     "generate a video from prompt stages (VSTAR), or export PNG frames as MP4, WebM, GIF, PNGs"},
};

static void usage(FILE *f) {
  fprintf(f, "usage: dirigent-cli COMMAND [OPTIONS]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
  fprintf(f, "\nRun 'dirigent-cli COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "dirigent-cli: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
