// Minimal checks for the editor's tests (no GPU needed): CHECK records a failure and goes on.
#pragma once
#include <stdio.h>

static int dg_check_failures, dg_check_count;
#define CHECK(cond, ...)                                                                                               \
  do {                                                                                                                 \
    dg_check_count++;                                                                                                  \
    if (!(cond)) {                                                                                                     \
      dg_check_failures++;                                                                                             \
      fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond);                                                  \
      fprintf(stderr, __VA_ARGS__);                                                                                    \
      fputc('\n', stderr);                                                                                             \
    }                                                                                                                  \
  } while (0)
#define CHECK_DONE() (printf("%d checks, %d failures\n", dg_check_count, dg_check_failures), dg_check_failures ? 1 : 0)
