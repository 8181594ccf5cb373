// json-glib for JSON from outside (project files, PNG job chunks, dataset index lines, scene graphs,
// palettes): the text passes dg_json_check_limits first, because json-glib recurses once per nesting
// level (a deep enough text overflows the stack) and has no size limit of its own.
#pragma once
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dg_status.h"

// Limits of the texts read this way (nesting: DG_JSON_DEFAULT_DEPTH levels for all of them).
#define DG_JSON_MAX_SMALL (4u << 20)  // a palette, a PNG job chunk, one line of index.jsonl
#define DG_JSON_MAX_SCENE (16u << 20) // a world scene graph

// Parses text[0..len) into `parser`: its root, or NULL with the error ("SOURCE: ...", naming the limit
// exceeded or json-glib's message; no prefix for a NULL source) in dg_last_error() and *status.
JsonNode *dg_json_glib_parse(JsonParser *parser, const char *text, size_t len, const char *source, size_t max_bytes,
                             dg_status *status);

// The same for the file at `path` (at most max_bytes; DG_ERR_IO naming it when it cannot be read).
JsonNode *dg_json_glib_parse_file(JsonParser *parser, const char *path, size_t max_bytes, dg_status *status);

// Writes the builder's root, pretty-printed, to `path` (DG_ERR_IO naming the file on failure).
dg_status dg_json_glib_save(JsonBuilder *b, const char *path);

// Members of the object being built: a number (null when NaN or infinite, which JSON cannot hold), an
// integer, a string (null for NULL).
void dg_json_add_number(JsonBuilder *b, const char *key, double v);
void dg_json_add_int(JsonBuilder *b, const char *key, int64_t v);
void dg_json_add_string(JsonBuilder *b, const char *key, const char *v);

// Members of a parsed object: a string, or NULL when missing or not a string; an array, or NULL; a number
// (an integer counts) into *out, NaN for null, false when missing or neither.
const char *dg_json_member_string(JsonObject *o, const char *key);
const char *dg_json_node_string(JsonNode *n); // the same for a node (an array's element); NULL for NULL
JsonArray *dg_json_member_array(JsonObject *o, const char *key);
bool dg_json_member_number(JsonObject *o, const char *key, double *out);
