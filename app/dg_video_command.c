// Deleting one of the document's videos as an undo step: the command holds the video while it is deleted and
// puts it back at its place (and the player's choice as it was) on undo.
#include <stdlib.h>

#include "dg_command.h"
#include "dg_memory.h"

typedef struct video_delete_command {
  dg_command base;
  int index, current; // where it was, and the current video before the delete
  dg_video_result *video; // held while deleted (done), NULL while undone (the document has it)
} video_delete_command;

static void video_delete_apply(dg_command *cmd, dg_document *doc, bool redo) {
  video_delete_command *c = (video_delete_command *)cmd;
  if (redo) {
    c->video = dg_document_store_take_video(doc, c->index);
  } else if (c->video) {
    dg_document_store_insert_video(doc, c->index, c->video, c->current);
    c->video = NULL;
  }
}
static size_t video_delete_size(const dg_command *cmd) {
  const video_delete_command *c = (const video_delete_command *)cmd;
  return sizeof *c + (c->video ? dg_media_frame_bytes(&c->video->frames) * (size_t)c->video->frames.frames : 0);
}
static void video_delete_free(dg_command *cmd) {
  video_delete_command *c = (video_delete_command *)cmd;
  if (c->video) dg_video_result_clear(c->video);
  free(c->video);
  free(c);
}
static const dg_command_type video_delete_type = {"video delete", video_delete_apply, NULL, video_delete_size,
                                                  video_delete_free};

dg_command *dg_video_delete_command_new(int index, dg_video_result *deleted, int current) {
  video_delete_command *c = calloc(1, sizeof *c);
  if (!c) {
    dg_memory_fail("a video's undo step", sizeof *c);
    return NULL;
  }
  *c = (video_delete_command){{&video_delete_type, false}, index, current, deleted};
  return &c->base;
}
