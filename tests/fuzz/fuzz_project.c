// Project files (.dirigent, dg_project_parse): a file that parses gives a document whose layout and
// results are whole, and which saves to a file that parses again.
#include <stdlib.h>
#include <string.h>

#include "dg_project.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_init();
  return 0;
}

static void check(const dg_document *d) {
  int w = dg_document_width(d), h = dg_document_height(d);
  if (w < 1 || h < 1) fuzz_fail("document of %dx%d", w, h);
  volatile uint8_t last = dg_document_layout(d)[(size_t)w * h - 1];
  (void)last;
  int64_t areas[256];
  dg_document_class_areas(d, areas);
  if (!dg_document_prompt(d) || !dg_document_negative(d) || !dg_document_model(d)) fuzz_fail("a missing text field");
  for (int i = 0; i < dg_document_result_count(d); i++) {
    const dg_result *r = dg_document_result(d, i);
    if (r->width < 1 || r->height < 1 || !r->rgba) fuzz_fail("result %d of %dx%d", i, r->width, r->height);
    volatile uint8_t px = r->rgba[(size_t)r->width * r->height * 4 - 1];
    (void)px;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dg_status s;
  dg_clear_error();
  dg_document *d = dg_project_parse((const char *)data, size, &s);
  if (!d) {
    fuzz_expect_error(s, "dg_project_parse");
    return 0;
  }
  check(d);
  size_t len;
  char *saved = dg_project_serialize(d, &len);
  dg_document *again = dg_project_parse(saved, len, &s);
  if (!again) fuzz_fail("a parsed project saves to a file that does not parse: %s", dg_last_error());
  check(again);
  dg_document_free(again);
  free(saved);
  dg_document_free(d);
  return 0;
}
