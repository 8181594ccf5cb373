// A world dataset's index (dg_world_index_load of DIR/index.jsonl) and the scene graph an entry
// names (dg_world_index_object_colours), as `dirigent-cli eval` reads them. The input holds
// index.jsonl and scene.json separated by FUZZ_SEPARATOR; scene graphs are read only where an entry
// names that file.
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "dg_world_index.h"
#include "fuzz_util.h"

static char *scene_path;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_init();
  scene_path = fuzz_path("scene.json");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_part parts[2];
  fuzz_split(data, size, parts, 2);
  g_free(fuzz_write("index.jsonl", parts[0].data, parts[0].size));
  g_free(fuzz_write("scene.json", parts[1].data, parts[1].size));
  dg_world_index ix;
  dg_clear_error();
  dg_status s = dg_world_index_load(fuzz_dir(), 0, &ix);
  if (s != DG_OK) {
    fuzz_expect_error(s, "dg_world_index_load");
    if (ix.n || ix.entries) fuzz_fail("a failed load left entries");
    return 0;
  }
  int scenes = 0;
  for (int i = 0; i < ix.n; i++) {
    const dg_world_index_entry *e = &ix.entries[i];
    if (!e->id || !e->image || !e->label || e->width < 1 || e->height < 1) fuzz_fail("entry %d", i);
    if (e->n_captions < 0 || e->n_captions > DG_WORLD_MAX_CAPTIONS) fuzz_fail("entry %d: %d captions", i, e->n_captions);
    for (int c = 0; c < e->n_captions; c++) {
      const dg_world_index_caption *cap = &e->captions[c];
      if (!cap->text || cap->n_roles < 0 || cap->n_roles > DG_WORLD_MAX_ROLES) fuzz_fail("entry %d caption %d", i, c);
      for (int r = 0; r < cap->n_roles; r++) {
        const dg_world_index_role *role = &cap->roles[r];
        if (role->cls < -1 || role->cls >= DG_WORLD_NUM_CLASSES) fuzz_fail("role class %d", role->cls);
        if (!e->scene || strcmp(e->scene, scene_path) || role->cls < 0 || scenes >= 8) continue;
        unsigned colours;
        bool uncoloured;
        scenes++;
        dg_clear_error();
        s = dg_world_index_object_colours(e, role->cls, &colours, &uncoloured);
        if (s != DG_OK) fuzz_expect_error(s, "dg_world_index_object_colours");
      }
    }
  }
  dg_world_index_free(&ix);
  return 0;
}
