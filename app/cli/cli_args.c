// Option values shared by the dirigent-cli subcommands.
#include <stdio.h>
#include <stdlib.h>

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
