// Subcommands of dirigent-cli; each returns the process exit status.
#pragma once

int dg_cli_device(int argc, char **argv);
int dg_cli_model(int argc, char **argv);
int dg_cli_world(int argc, char **argv);
int dg_cli_generate(int argc, char **argv);
int dg_cli_eval(int argc, char **argv);

// Shared option values. Each returns false on a bad value; the cfg and seed parsers also print
// "CMD: --cfg V is not ..." to stderr.
#include <stdbool.h>
#include <stdint.h>
bool dg_cli_parse_long(const char *s, long lo, long hi, long *out);
bool dg_cli_parse_cfg(const char *cmd, const char *s, double *out);
bool dg_cli_parse_seed(const char *cmd, const char *s, uint64_t *out);
