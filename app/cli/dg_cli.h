// Subcommands of dirigent-cli; each returns the process exit status.
#pragma once

int dg_cli_device(int argc, char **argv);
int dg_cli_model(int argc, char **argv);
int dg_cli_convert(int argc, char **argv);
int dg_cli_world(int argc, char **argv);
int dg_cli_generate(int argc, char **argv);
int dg_cli_eval(int argc, char **argv);
int dg_cli_eval_marks(int argc, char **argv); // `eval marks`, called by dg_cli_eval
int dg_cli_layout(int argc, char **argv);
int dg_cli_live(int argc, char **argv);

// Shared option values. Each returns false on a bad value; the cfg, seed and side parsers also print
// "CMD: --cfg 'V': guidance is ..." (the rule, from dg_settings) to stderr.
#include <stdbool.h>
#include <stdint.h>
bool dg_cli_parse_long(const char *s, long lo, long hi, long *out);
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
} dg_cli_sampling;
#define DG_CLI_SAMPLING_DEFAULTS {.sampler = "ddim", .steps = 25, .cfg = 7.5}
// A flag without value: true when A is --f16 or --quiet (then set in s).
bool dg_cli_sampling_flag(const char *a, dg_cli_sampling *s);
// A with its value V, one of --model, --steps, --cfg, --control-scale, --seed, --sampler: 1 taken, 0 not one of them,
// -1 a bad value (said on stderr as "CMD: ...").
int dg_cli_sampling_option(const char *cmd, const char *a, const char *v, dg_cli_sampling *s);
