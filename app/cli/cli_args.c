// Option values shared by the dirigent-cli subcommands.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_cli.h"

bool dg_cli_parse_long(const char *s, long lo, long hi, long *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool dg_cli_parse_cfg(const char *cmd, const char *s, double *out) {
  char *end;
  double v = strtod(s, &end);
  if (!*s || *end || !(v >= 0 && v <= 100)) {
    fprintf(stderr, "%s: --cfg %s is not a number in 0..100\n", cmd, s);
    return false;
  }
  *out = v;
  return true;
}

bool dg_cli_parse_seed(const char *cmd, const char *s, uint64_t *out) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (!*s || *end || *s == '-') {
    fprintf(stderr, "%s: --seed %s is not a non-negative integer\n", cmd, s);
    return false;
  }
  *out = v;
  return true;
}

bool dg_cli_sampling_flag(const char *a, dg_cli_sampling *s) {
  if (!strcmp(a, "--f16")) return s->f16 = true;
  if (!strcmp(a, "--quiet")) return s->quiet = true;
  return false;
}

int dg_cli_sampling_option(const char *cmd, const char *a, const char *v, dg_cli_sampling *s) {
  long n;
  if (!strcmp(a, "--model")) s->model = v;
  else if (!strcmp(a, "--cfg")) return dg_cli_parse_cfg(cmd, v, &s->cfg) ? 1 : -1;
  else if (!strcmp(a, "--seed")) return (s->have_seed = dg_cli_parse_seed(cmd, v, &s->seed)) ? 1 : -1;
  else if (!strcmp(a, "--sampler") || !strcmp(a, "--steps")) {
    if (!strcmp(a, "--sampler") && (!strcmp(v, "ddim") || !strcmp(v, "plms"))) s->sampler = v;
    else if (!strcmp(a, "--steps") && dg_cli_parse_long(v, 1, 1000, &n)) s->steps = (int)n;
    else {
      fprintf(stderr, "%s: bad value: %s %s\n", cmd, a, v);
      return -1;
    }
  } else return 0;
  return 1;
}
