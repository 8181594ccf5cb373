// Images from outside in the formats people have them: PNG (dg_png) and JPEG (libjpeg-turbo; photos, and
// layouts saved as JPEG), told apart by their first bytes. For style exemplars and contents, `stylize`, and
// painted layouts read by colour (dg_layout_read). JPEG: baseline and progressive, greyscale expanded to
// RGB, CMYK refused; the size is checked from the header against the limits before any pixel is decoded;
// a truncated file is an error (libjpeg would fill the rest with grey); the EXIF orientation is applied (a
// phone's portrait photo comes upright; the size limits are checked on the stored size).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "dg_png.h"
#include "dg_status.h"

// RGB8 (3 channels) or RGBA8 (4; a JPEG's alpha is 255) of the PNG or JPEG in memory (`name` for messages)
// within `limits` (may be NULL; DG_PNG_MAX_SIDE and DG_PNG_MAX_PIXELS always apply). *pixels is malloc'd.
dg_status dg_image_read_mem(const void *data, size_t size, const char *name, int channels,
                            const dg_png_limits *limits, int *width, int *height, uint8_t **pixels);
// The same from a file (a regular file, at most 1 GiB).
dg_status dg_image_read(const char *path, int channels, const dg_png_limits *limits, int *width, int *height,
                        uint8_t **pixels);
