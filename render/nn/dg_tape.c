#include "dg_tape.h"

#include <stdlib.h>
#include <string.h>

#include "dg_elementwise.h"
#include "dg_layout.h"
#include "dg_memory.h"
#include "dg_resample.h"

// One tensor the tape knows: tracked (depends on a watched tensor) and its gradient if any.
typedef struct slot {
  const dg_buffer *buffer; // NULL: empty
  uint64_t offset;
  bool has_grad;
  dg_tensor grad;
} slot;

struct dg_tape {
  dg_arena *arena;   // gradients
  dg_arena *scratch; // temporaries of one backward function
  dg_tape_entry *entries;
  int n_entries, cap_entries;
  slot *slots; // open addressing on (buffer, offset)
  size_t n_slots, cap_slots;
  dg_arena *derived_arena; // tensors derived from weights, kept across resets
  struct derived {
    const dg_buffer *buffer;
    uint64_t offset;
    int kind;
    dg_tensor t;
  } *derived;
  int n_derived, cap_derived;
};

dg_status dg_tape_create(dg_device *device, dg_tape **out) {
  dg_tape *t = calloc(1, sizeof *t);
  if (!t) return dg_memory_fail("the gradient tape", sizeof *t);
  dg_status st = dg_arena_create(device, 0, &t->arena);
  if (st == DG_OK) st = dg_arena_create(device, 0, &t->scratch);
  if (st == DG_OK) st = dg_arena_create(device, 16u << 20, &t->derived_arena);
  if (st != DG_OK) {
    dg_tape_free(t);
    return st;
  }
  *out = t;
  return DG_OK;
}

void dg_tape_free(dg_tape *t) {
  if (!t) return;
  if (t->arena) dg_arena_destroy(t->arena);
  if (t->scratch) dg_arena_destroy(t->scratch);
  if (t->derived_arena) dg_arena_destroy(t->derived_arena);
  free(t->derived);
  free(t->entries);
  free(t->slots);
  free(t);
}

void dg_tape_reset(dg_tape *t) {
  t->n_entries = 0;
  t->n_slots = 0;
  if (t->slots) memset(t->slots, 0, t->cap_slots * sizeof *t->slots);
  dg_arena_release(t->arena, (dg_arena_mark){0, 0});
}

int dg_tape_entries(const dg_tape *t) { return t->n_entries; }

dg_status dg_tape_derived(dg_tape *t, const dg_tensor *weight, int kind, dg_dtype dtype, int ndim,
                          const int64_t *shape, dg_tensor *out, bool *fresh) {
  for (int i = 0; i < t->n_derived; i++) {
    struct derived *d = &t->derived[i];
    if (d->buffer == weight->data.buffer && d->offset == weight->data.offset && d->kind == kind) {
      *out = d->t;
      *fresh = false;
      return DG_OK;
    }
  }
  if (t->n_derived == t->cap_derived) {
    int cap = t->cap_derived ? 2 * t->cap_derived : 64;
    struct derived *nd = realloc(t->derived, (size_t)cap * sizeof *nd);
    if (!nd) return dg_memory_fail("the gradient tape's derived weights", (uint64_t)cap * sizeof *nd);
    t->derived = nd;
    t->cap_derived = cap;
  }
  DG_TRY(dg_tensor_alloc(t->derived_arena, dtype, ndim, shape, out));
  t->derived[t->n_derived++] = (struct derived){weight->data.buffer, weight->data.offset, kind, *out};
  *fresh = true;
  return DG_OK;
}
dg_arena *dg_tape_scratch(dg_tape *t) { return t->scratch; }

static size_t hash(const dg_buffer *b, uint64_t off) {
  uint64_t h = (uint64_t)(uintptr_t)b * 0x9E3779B97F4A7C15ull ^ (off + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
  return (size_t)(h ^ h >> 29);
}

static slot *find(const dg_tape *t, const dg_tensor *x) {
  if (!t->cap_slots) return NULL;
  for (size_t i = hash(x->data.buffer, x->data.offset) & (t->cap_slots - 1);; i = (i + 1) & (t->cap_slots - 1)) {
    slot *s = &t->slots[i];
    if (!s->buffer) return NULL;
    if (s->buffer == x->data.buffer && s->offset == x->data.offset) return s;
  }
}

static dg_status insert(dg_tape *t, const dg_tensor *x, slot **out) {
  if ((*out = find(t, x))) return DG_OK;
  if (2 * (t->n_slots + 1) > t->cap_slots) {
    size_t cap = t->cap_slots ? 2 * t->cap_slots : 1024;
    slot *old = t->slots, *ns = calloc(cap, sizeof *ns);
    if (!ns) return dg_memory_fail("the gradient tape's tensor table", cap * sizeof *ns);
    size_t old_cap = t->cap_slots;
    t->slots = ns;
    t->cap_slots = cap;
    for (size_t i = 0; i < old_cap; i++)
      if (old[i].buffer) {
        size_t j = hash(old[i].buffer, old[i].offset) & (cap - 1);
        while (ns[j].buffer) j = (j + 1) & (cap - 1);
        ns[j] = old[i];
      }
    free(old);
  }
  size_t i = hash(x->data.buffer, x->data.offset) & (t->cap_slots - 1);
  while (t->slots[i].buffer) i = (i + 1) & (t->cap_slots - 1);
  t->slots[i] = (slot){.buffer = x->data.buffer, .offset = x->data.offset};
  t->n_slots++;
  *out = &t->slots[i];
  return DG_OK;
}

dg_status dg_tape_watch(dg_tape *t, const dg_tensor *x) {
  slot *s;
  return insert(t, x, &s);
}

bool dg_tape_tracks(const dg_tape *t, const dg_tensor *x) { return find(t, x) != NULL; }

dg_status dg_tape_record(dg_tape *t, const dg_tape_entry *e) {
  bool any = false;
  for (int i = 0; i < e->n_in && !any; i++) any = dg_tape_tracks(t, &e->in[i]);
  if (!any) return DG_OK;
  if (t->n_entries == t->cap_entries) {
    int cap = t->cap_entries ? 2 * t->cap_entries : 256;
    dg_tape_entry *ne = realloc(t->entries, (size_t)cap * sizeof *ne);
    if (!ne) return dg_memory_fail("the gradient tape's entries", (uint64_t)cap * sizeof *ne);
    t->entries = ne;
    t->cap_entries = cap;
  }
  t->entries[t->n_entries++] = *e;
  slot *s;
  for (int i = 0; i < e->n_out; i++) DG_TRY(insert(t, &e->out[i], &s));
  return DG_OK;
}

dg_status dg_tape_alloc(dg_tape *t, dg_dtype dtype, int ndim, const int64_t *shape, dg_tensor *out) {
  return dg_tensor_alloc(t->arena, dtype, ndim, shape, out);
}

dg_status dg_tape_accumulate(dg_tape *t, dg_stream *s, const dg_tensor *x, const dg_tensor *dx, bool owned) {
  char sx[96], sd[96];
  if (dg_tensor_numel(dx) != dg_tensor_numel(x) || dx->dtype != x->dtype)
    return dg_fail(DG_ERR_ARG, "tape: gradient %s (%s) does not fit tensor %s (%s)", dg_shape_str(dx, sd, sizeof sd),
                   dg_dtype_name(dx->dtype), dg_shape_str(x, sx, sizeof sx), dg_dtype_name(x->dtype));
  slot *sl;
  DG_TRY(insert(t, x, &sl));
  if (sl->has_grad) {
    dg_tensor v;
    DG_TRY(dg_tensor_reshape(dx, sl->grad.ndim, sl->grad.shape, &v));
    return dg_binary(s, DG_ADD, &sl->grad, &v, &sl->grad);
  }
  dg_tensor g;
  if (owned) {
    DG_TRY(dg_tensor_reshape(dx, x->ndim, x->shape, &g));
  } else {
    dg_tensor v;
    DG_TRY(dg_tape_alloc(t, x->dtype, x->ndim, x->shape, &g));
    DG_TRY(dg_tensor_reshape(dx, x->ndim, x->shape, &v));
    DG_TRY(dg_unary(s, DG_COPY, &v, &g, 0, 0));
  }
  // insert may not have moved the table since sl was found (no insertion in between).
  sl->grad = g;
  sl->has_grad = true;
  return DG_OK;
}

dg_status dg_tape_seed(dg_tape *t, dg_stream *s, const dg_tensor *x, const dg_tensor *g) {
  return dg_tape_accumulate(t, s, x, g, false);
}

const dg_tensor *dg_tape_grad(const dg_tape *t, const dg_tensor *x) {
  slot *s = find(t, x);
  return s && s->has_grad ? &s->grad : NULL;
}

dg_status dg_tape_backward(dg_tape *t, dg_stream *s) {
  for (int i = t->n_entries - 1; i >= 0; i--) {
    const dg_tape_entry *e = &t->entries[i];
    bool any = false;
    for (int o = 0; o < e->n_out && !any; o++) any = dg_tape_grad(t, &e->out[o]) != NULL;
    if (any) DG_TRY(e->backward(t, s, e));
  }
  return DG_OK;
}

// ---- the glue's entries ----

static bool same(const dg_tensor *a, const dg_tensor *b) {
  return a->data.buffer == b->data.buffer && a->data.offset == b->data.offset;
}

// out = in[0] + in[1]: both get out's gradient, except an input that is out itself (in place: its
// gradient already is out's) or a constant.
static dg_status add_backward(dg_tape *t, dg_stream *s, const dg_tape_entry *e) {
  const dg_tensor g = *dg_tape_grad(t, &e->out[0]); // a copy: accumulating may grow the table
  for (int i = 0; i < e->n_in; i++)
    if (!same(&e->in[i], &e->out[0]) && dg_tape_tracks(t, &e->in[i]))
      DG_TRY(dg_tape_accumulate(t, s, &e->in[i], &g, false));
  return DG_OK;
}

dg_status dg_tape_record_add(dg_tape *t, const dg_tensor *out, const dg_tensor *a, const dg_tensor *b) {
  // An in-place add of a constant changes nothing the tape sees.
  if ((same(a, out) && !dg_tape_tracks(t, b)) || (same(b, out) && !dg_tape_tracks(t, a))) return DG_OK;
  dg_tape_entry e = {.backward = add_backward, .in = {*a, *b}, .n_in = 2, .out = {*out}, .n_out = 1};
  return dg_tape_record(t, &e);
}

static dg_status permute_backward(dg_tape *t, dg_stream *s, const dg_tape_entry *e) {
  const dg_tensor *x = &e->in[0];
  int inv[DG_MAX_DIMS];
  for (int i = 0; i < x->ndim; i++) inv[e->ints[i]] = i;
  dg_tensor g, dx;
  DG_TRY(dg_tensor_reshape(dg_tape_grad(t, &e->out[0]), e->out[0].ndim, e->out[0].shape, &g));
  DG_TRY(dg_tape_alloc(t, x->dtype, x->ndim, x->shape, &dx));
  DG_TRY(dg_permute(s, &g, inv, &dx));
  return dg_tape_accumulate(t, s, x, &dx, true);
}

dg_status dg_tape_record_permute(dg_tape *t, const dg_tensor *x, const int *perm, const dg_tensor *out) {
  dg_tape_entry e = {.backward = permute_backward, .in = {*x}, .n_in = 1, .out = {*out}, .n_out = 1};
  for (int i = 0; i < x->ndim; i++) e.ints[i] = perm[i];
  return dg_tape_record(t, &e);
}

// Each input pixel was copied to a 2x2 block: its gradient is the block's sum.
static dg_status upsample_backward(dg_tape *t, dg_stream *s, const dg_tape_entry *e) {
  const dg_tensor *x = &e->in[0];
  dg_tensor g, dx;
  DG_TRY(dg_tensor_reshape(dg_tape_grad(t, &e->out[0]), e->out[0].ndim, e->out[0].shape, &g));
  DG_TRY(dg_tape_alloc(t, x->dtype, x->ndim, x->shape, &dx));
  DG_TRY(dg_avg_pool(s, &g, 2, &dx));
  DG_TRY(dg_unary(s, DG_SCALE, &dx, &dx, 4, 0));
  return dg_tape_accumulate(t, s, x, &dx, true);
}

dg_status dg_tape_record_upsample(dg_tape *t, const dg_tensor *x, const dg_tensor *out) {
  dg_tape_entry e = {.backward = upsample_backward, .in = {*x}, .n_in = 1, .out = {*out}, .n_out = 1};
  return dg_tape_record(t, &e);
}

static dg_status concat_backward(dg_tape *t, dg_stream *s, const dg_tape_entry *e) {
  dg_tensor parts[DG_TAPE_MAX_IN], g;
  dg_tensor *outs[DG_TAPE_MAX_IN];
  for (int i = 0; i < e->n_in; i++) {
    DG_TRY(dg_tape_alloc(t, e->in[i].dtype, e->in[i].ndim, e->in[i].shape, &parts[i]));
    outs[i] = &parts[i];
  }
  DG_TRY(dg_tensor_reshape(dg_tape_grad(t, &e->out[0]), e->out[0].ndim, e->out[0].shape, &g));
  DG_TRY(dg_split(s, &g, e->ints[0], outs, e->n_in));
  for (int i = 0; i < e->n_in; i++)
    if (dg_tape_tracks(t, &e->in[i])) DG_TRY(dg_tape_accumulate(t, s, &e->in[i], &parts[i], true));
  return DG_OK;
}

dg_status dg_tape_record_concat(dg_tape *t, const dg_tensor *const *parts, int n, int axis, const dg_tensor *out) {
  if (n > DG_TAPE_MAX_IN) return dg_fail(DG_ERR_UNSUPPORTED, "tape: a concatenation of %d tensors (at most %d)", n,
                                         DG_TAPE_MAX_IN);
  dg_tape_entry e = {.backward = concat_backward, .n_in = n, .out = {*out}, .n_out = 1, .ints = {axis}};
  for (int i = 0; i < n; i++) e.in[i] = *parts[i];
  return dg_tape_record(t, &e);
}
