// The evaluation of attention guidance (issue #18, Divide & Bind): prompt sets built from the world's
// caption vocabulary with their marks texts (dg_marks.h), and the judging of one generated image from the
// evaluation segmenter's classes: is each marked object there, are all of them, is each car's colour bound
// to a car of its own. `dirigent-cli eval marks` (docs/eval.md) runs them with the CLIP similarities.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dg_eval_attr.h"
#include "dg_status.h"
#include "dg_world.h"

typedef enum dg_eval_marks_set {
  DG_EVAL_MARKS_MULTI,  // 2 or 3 object classes: "a street lamp, a tree and a traffic sign"
  DG_EVAL_MARKS_COLOUR, // two objects with colours: "a red car and a blue car", "a yellow car next to a white building"
  DG_EVAL_MARKS_SCENE,  // an object in a scene: "a person on a snowy street at night"
  DG_EVAL_MARKS_SET_COUNT
} dg_eval_marks_set;
extern const char *const dg_eval_marks_set_names[DG_EVAL_MARKS_SET_COUNT]; // "multi", "colour", "scene"
// DG_ERR_ARG naming the value unless it is one of the names.
dg_status dg_eval_marks_set_parse(const char *name, dg_eval_marks_set *out);

#define DG_EVAL_MARKS_SET_SIZE 120 // prompts of each set
#define DG_EVAL_MARKS_MAX_OBJECTS 3

typedef struct dg_eval_marks_object {
  int cls;          // DG_WORLD_*
  int attr;         // its colour word (dg_world_attr), DG_ATTR_NONE if none
  int occurrence;   // 1-based among the prompt's objects of the same class
  const char *noun; // as the world's captions write it: "street lamp"
  const char *word; // the marked word (the noun's last word): "lamp"
} dg_eval_marks_object;

typedef struct dg_eval_marks_prompt {
  char prompt[160];
  char marks[128]; // the dg_marks text: "lamp, tree, sign", "red:car#1, blue:car#2"
  int n_objects;   // in the order the prompt names them
  dg_eval_marks_object objects[DG_EVAL_MARKS_MAX_OBJECTS];
} dg_eval_marks_prompt;

// The DG_EVAL_MARKS_SET_SIZE prompts of `set`, always the same (a fixed-seed shuffle of the set's
// combinations, so any prefix mixes them). out holds DG_EVAL_MARKS_SET_SIZE. Returns the count.
int dg_eval_marks_prompts(dg_eval_marks_set set, dg_eval_marks_prompt *out);

// An object counts as present when the segmenter's classes give its class at least this share of the
// image's pixels, and never fewer than DG_EVAL_MARKS_MIN_PIXELS; the n-th marked occurrence of a class
// (n >= 2) needs n connected regions (8-neighbours) of the class of at least that many pixels each ("a red
// car and a blue car": two cars).
#define DG_EVAL_MARKS_PRESENT_SHARE 0.001
#define DG_EVAL_MARKS_MIN_PIXELS 8
int64_t dg_eval_marks_present_pixels(int width, int height);

// Connected regions (8-neighbours) of class `cls` with at least min_pixels pixels: region[i] is the
// region of pixel i (0..count-1, largest first) or -1; sizes (may be NULL) gets the first max_sizes
// regions' pixels. Returns the count, or -1 when out of memory.
int dg_eval_marks_regions(const uint8_t *classes, int width, int height, int cls, int64_t min_pixels, int32_t *region,
                          int64_t *sizes, int max_sizes);

typedef struct dg_eval_marks_judgement {
  int n_objects;
  int regions[DG_EVAL_MARKS_MAX_OBJECTS];    // regions of the object's class at the presence threshold
  int64_t pixels[DG_EVAL_MARKS_MAX_OBJECTS]; // the object's class pixels, all regions together
  bool present[DG_EVAL_MARKS_MAX_OBJECTS];
  bool all_present;
  int bindings; // colour bindings judged (those on DG_EVAL_ATTR_CLASS, cars)
  int binding;  // 1 all bound right, 0 not, -1 none judged
  int found;    // 1 each colour passes on some car region (regions may be shared), 0 not, -1 none judged
} dg_eval_marks_judgement;

// Judges an image (rgb) from its segmenter classes. Colour binding: the car regions of at least
// DG_EVAL_ATTR_MIN_PIXELS pixels each get the car-colour check of dg_eval_attr_share on their own pixels
// (a region passes for a colour when >= DG_EVAL_ATTR_SHARE of them are nearest that colour's centroid);
// the bindings are right when each car binding of the prompt can be given a region of its own that
// passes for its colour (a matching: two cars asked in red and blue need a red region and another, blue
// one). `found` is the lenient form: each colour passes on some car region, one region may serve
// several. Colours of other classes are not judged (no centroids).
dg_status dg_eval_marks_judge(const dg_eval_marks_prompt *p, const dg_eval_colours *colours, const uint8_t *rgb,
                              const uint8_t *classes, int width, int height, dg_eval_marks_judgement *out);

// The text whose CLIP similarity stands for one object: the world's caption for a single object, "a car".
void dg_eval_marks_object_text(const dg_eval_marks_object *o, char *text, int size);
