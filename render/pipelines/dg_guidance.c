#include "dg_guidance.h"

#include <string.h>

static const char *const names[] = {"none", "attend-excite", "divide-bind"};

const char *dg_guidance_name(dg_guidance_kind k) {
  return (unsigned)k < sizeof names / sizeof *names ? names[k] : "none";
}

dg_status dg_guidance_parse(const char *name, dg_guidance_kind *out) {
  *out = DG_GUIDANCE_NONE;
  if (!name || !*name) return DG_OK;
  for (unsigned k = 0; k < sizeof names / sizeof *names; k++)
    if (!strcmp(name, names[k])) {
      *out = (dg_guidance_kind)k;
      return DG_OK;
    }
  return dg_fail(DG_ERR_ARG, "guidance '%s': expected none, attend-excite or divide-bind", name);
}
