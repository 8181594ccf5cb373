// A timeline (dg_timeline.h) as the JSON object a project stores:
//   {"frames": 16, "fps": 8, "vsp": "linear", "sigma_fine": 1, "sigma_next": 0, "until": 13,
//    "keep_layout": true, "stages": [{"frame": 0, "prompt": "a street at day"}, ...]}
// Reading is strict: every member present with its type, the values as dg_timeline_check allows.
#pragma once
#include <json-glib/json-glib.h>

#include "dg_timeline.h"

// Adds the object as the builder's next value.
void dg_timeline_json_write(JsonBuilder *b, const dg_timeline *t);
// Fills *out (initialised by the caller; replaced only on success) from `node`. DG_ERR_FORMAT with a
// message starting with `where` ("timeline", "video.timeline") and naming the member otherwise.
dg_status dg_timeline_json_read(JsonNode *node, const char *where, dg_timeline *out);
