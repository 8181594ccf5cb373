// Option values shared by the dirigent-cli subcommands; the rules are the editor's (dg_settings).
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_cli.h"
#include "dg_settings.h"
#include "dg_prompt_cut.h"

bool dg_cli_parse_long(const char *s, long lo, long hi, long *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

// True for DG_OK; otherwise the error goes to stderr as "CMD: message".
static bool said(const char *cmd, dg_status s) {
  if (s != DG_OK) fprintf(stderr, "%s: %s\n", cmd, dg_last_error());
  return s == DG_OK;
}

bool dg_cli_parse_cfg(const char *cmd, const char *s, double *out) {
  return said(cmd, dg_settings_parse_guidance("--cfg", s, out));
}

bool dg_cli_parse_seed(const char *cmd, const char *s, uint64_t *out) {
  return said(cmd, dg_settings_parse_seed("--seed", s, out));
}

bool dg_cli_parse_side(const char *cmd, const char *option, const char *s, int *out) {
  return said(cmd, dg_settings_parse_side(option, s, out));
}

bool dg_cli_sampling_flag(const char *a, dg_cli_sampling *s) {
  if (!strcmp(a, "--f16")) return s->f16 = true;
  if (!strcmp(a, "--quiet")) return s->quiet = true;
  return false;
}

int dg_cli_sampling_option(const char *cmd, const char *a, const char *v, dg_cli_sampling *s) {
  if (!strcmp(a, "--model")) s->model = v;
  else if (!strcmp(a, "--cfg")) return dg_cli_parse_cfg(cmd, v, &s->cfg) ? 1 : -1;
  else if (!strcmp(a, "--seed")) return (s->have_seed = dg_cli_parse_seed(cmd, v, &s->seed)) ? 1 : -1;
  else if (!strcmp(a, "--control-scale"))
    return said(cmd, dg_settings_parse_control_scale("--control-scale", v, &s->control_scale)) ? 1 : -1;
  else if (!strcmp(a, "--steps")) return said(cmd, dg_settings_parse_steps("--steps", v, &s->steps)) ? 1 : -1;
  else if (!strcmp(a, "--sampler")) {
    if (strcmp(v, "ddim") && strcmp(v, "plms")) {
      fprintf(stderr, "%s: --sampler '%s': the sampler is ddim or plms\n", cmd, v);
      return -1;
    }
    s->sampler = v;
  } else if (!strcmp(a, "--decoder")) {
    if (strcmp(v, "vae") && strcmp(v, "tiny")) {
      fprintf(stderr, "%s: --decoder '%s': the decoder is vae or tiny\n", cmd, v);
      return -1;
    }
    s->tiny_decoder = !strcmp(v, "tiny");
  } else return 0;
  return 1;
}

bool dg_cli_parse_double(const char *s, double lo, double hi, double *out) {
  char *end;
  double v = strtod(s, &end);
  if (!*s || *end || !(v >= lo && v <= hi)) return false;
  *out = v;
  return true;
}

dg_status dg_cli_check_decoder(const dg_cli_sampling *s, const dg_model_set *m, const char *model) {
  if (!s->tiny_decoder || dg_model_set_has(m, DG_ROLE_TINY_DECODER)) return DG_OK;
  return dg_fail(DG_ERR_ARG, "--decoder tiny: model %s has no tiny decoder (tiny_decoder.safetensors)", model);
}

void dg_cli_warn_cut(const char *cmd, const char *what, const dg_model_set *m, const char *text) {
  char *note = dg_prompt_cut_note(m, what, text);
  if (note) fprintf(stderr, "%s: %s\n", cmd, note);
  g_free(note);
}
