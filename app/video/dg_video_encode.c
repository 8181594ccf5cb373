// MP4 (H.264), WebM (VP9) and GIF through libavcodec/libavformat (dg_video_encode.h).
#include "dg_video_encode.h"

#include <errno.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct enc {
  const char *shown, *fmt_name;
  const dg_media *m;
  const dg_video_export_opts *o;
  int width, height; // as encoded (H.264: even)
  AVFormatContext *fmt;
  AVCodecContext *cc;
  AVStream *st;
  AVFrame *frame;
  AVPacket *pkt;
  struct SwsContext *sws;
  uint8_t *padded; // the frame with a copied edge row / column (odd sides, H.264)
  dg_quantizer *quant;
  bool header_written, trailer_written;
} enc;

bool dg_video_encoder_exists(const char *name) { return avcodec_find_encoder_by_name(name) != NULL; }

static dg_status av_fail(const enc *e, int err, const char *what) {
  char msg[AV_ERROR_MAX_STRING_SIZE] = "";
  av_strerror(err, msg, sizeof msg);
  return dg_fail(err == AVERROR(ENOMEM) ? DG_ERR_OOM : DG_ERR_IO, "%s: %s export: %s: %s", e->shown, e->fmt_name, what,
                 msg);
}

// libav's own log says only errors (x264 and libvpx report statistics at the info level).
static void quiet_log(void) { av_log_set_level(AV_LOG_ERROR); }

static dg_status set_opt(enc *e, const char *key, const char *value) {
  int r = av_opt_set(e->cc->priv_data, key, value, 0);
  return r < 0 ? av_fail(e, r, key) : DG_OK;
}

static dg_status open_codec(enc *e, const AVCodec *codec) {
  const dg_video_export_opts *o = e->o;
  AVCodecContext *cc = e->cc = avcodec_alloc_context3(codec);
  if (!cc) return dg_fail(DG_ERR_OOM, "%s: %s export: out of memory", e->shown, e->fmt_name);
  cc->width = e->width;
  cc->height = e->height;
  int rate_num, rate_den; // a frame a tick: the time base is the frame's duration, rate_den/rate_num seconds
  dg_video_fps_rational(o->fps, &rate_num, &rate_den);
  cc->time_base = (AVRational){rate_den, rate_num};
  cc->framerate = (AVRational){rate_num, rate_den};
  char num[32];
  if (o->format == DG_VIDEO_GIF) {
    cc->pix_fmt = AV_PIX_FMT_PAL8;
  } else {
    cc->pix_fmt = AV_PIX_FMT_YUV420P;
    // swscale's RGB -> YUV is BT.601, limited range: the stream says so.
    cc->color_range = AVCOL_RANGE_MPEG;
    cc->colorspace = AVCOL_SPC_SMPTE170M;
    cc->color_primaries = AVCOL_PRI_SMPTE170M;
    cc->color_trc = AVCOL_TRC_SMPTE170M;
    cc->gop_size = (int)lround(4 * o->fps) > 1 ? (int)lround(4 * o->fps) : 1;
    snprintf(num, sizeof num, "%d", o->crf >= 0 ? o->crf : o->format == DG_VIDEO_MP4 ? 18 : 28);
    DG_TRY(set_opt(e, "crf", num));
  }
  if (o->format == DG_VIDEO_MP4) {
    DG_TRY(set_opt(e, "preset", o->preset ? o->preset : "medium"));
  } else if (o->format == DG_VIDEO_WEBM) {
    cc->bit_rate = 0; // constant quality
    cc->thread_count = 2;
    snprintf(num, sizeof num, "%d", o->vp9_cpu_used >= 0 ? o->vp9_cpu_used : 5);
    DG_TRY(set_opt(e, "cpu-used", num));
    DG_TRY(set_opt(e, "row-mt", "1"));
    DG_TRY(set_opt(e, "deadline", "good"));
  }
  if (e->fmt->oformat->flags & AVFMT_GLOBALHEADER) cc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  int r = avcodec_open2(cc, codec, NULL);
  if (r < 0) return av_fail(e, r, "opening the encoder");
  return DG_OK;
}

static dg_status open_all(enc *e, const char *path, const char *muxer) {
  const dg_video_export_opts *o = e->o;
  const char *name = dg_video_encoder_name(o->format);
  const AVCodec *codec = avcodec_find_encoder_by_name(name);
  if (!codec)
    return dg_fail(DG_ERR_UNSUPPORTED, "%s: %s export needs the '%s' encoder, which this libavcodec lacks", e->shown,
                   e->fmt_name, name);
  int r = avformat_alloc_output_context2(&e->fmt, NULL, muxer, path);
  if (r < 0) return av_fail(e, r, "the muxer");
  e->st = avformat_new_stream(e->fmt, NULL);
  e->frame = av_frame_alloc();
  e->pkt = av_packet_alloc();
  if (!e->st || !e->frame || !e->pkt) return dg_fail(DG_ERR_OOM, "%s: %s export: out of memory", e->shown, e->fmt_name);
  DG_TRY(open_codec(e, codec));
  r = avcodec_parameters_from_context(e->st->codecpar, e->cc);
  if (r < 0) return av_fail(e, r, "stream parameters");
  e->st->time_base = e->cc->time_base;
  e->st->avg_frame_rate = e->cc->framerate;
  e->frame->format = e->cc->pix_fmt;
  e->frame->width = e->width;
  e->frame->height = e->height;
  r = av_frame_get_buffer(e->frame, 0);
  if (r < 0) return av_fail(e, r, "frame buffer");
  if (o->job_json && *o->job_json && o->format != DG_VIDEO_GIF)
    av_dict_set(&e->fmt->metadata, "comment", o->job_json, 0);
  // GIF goes to memory first: the comment block is put in before it is written out.
  r = o->format == DG_VIDEO_GIF ? avio_open_dyn_buf(&e->fmt->pb) : avio_open(&e->fmt->pb, path, AVIO_FLAG_WRITE);
  if (r < 0) return av_fail(e, r, "opening the file");
  AVDictionary *mux_opts = NULL;
  if (o->format == DG_VIDEO_MP4) av_dict_set(&mux_opts, "movflags", "+faststart", 0);
  if (o->format == DG_VIDEO_GIF) { // the muxer repeats the delay before the last frame: make it end on time
    AVRational cs = {1, 100};
    int64_t n = e->m->frames;
    av_dict_set_int(&mux_opts, "final_delay",
                    av_rescale_q(n, e->cc->time_base, cs) - av_rescale_q(n - 1, e->cc->time_base, cs), 0);
  }
  r = avformat_write_header(e->fmt, &mux_opts);
  av_dict_free(&mux_opts);
  if (r < 0) return av_fail(e, r, "writing the header");
  e->header_written = true;
  if (o->format == DG_VIDEO_GIF) {
    DG_TRY(dg_quantizer_new(e->m, 255, &e->quant)); // one entry left for the encoder's transparency
    int n;
    const uint8_t *pal = dg_quantizer_palette(e->quant, &n);
    memset(e->frame->data[1], 0, 1024);
    for (int i = 0; i < n; i++)
      ((uint32_t *)e->frame->data[1])[i] =
          0xff000000u | (uint32_t)pal[3 * i] << 16 | (uint32_t)pal[3 * i + 1] << 8 | pal[3 * i + 2];
  } else {
    enum AVPixelFormat src = e->m->channels == 4 ? AV_PIX_FMT_RGBA : AV_PIX_FMT_RGB24;
    e->sws = sws_getContext(e->width, e->height, src, e->width, e->height, AV_PIX_FMT_YUV420P,
                            SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, NULL, NULL, NULL);
    if (!e->sws) return dg_fail(DG_ERR_UNSUPPORTED, "%s: %s export: no RGB -> YUV conversion", e->shown, e->fmt_name);
    if (e->width != e->m->width || e->height != e->m->height) {
      e->padded = malloc((size_t)e->width * e->height * e->m->channels);
      if (!e->padded) return dg_fail(DG_ERR_OOM, "%s: %s export: out of memory", e->shown, e->fmt_name);
    }
  }
  return DG_OK;
}

// Encoded packets to the muxer.
static dg_status drain(enc *e) {
  for (;;) {
    int r = avcodec_receive_packet(e->cc, e->pkt);
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return DG_OK;
    if (r < 0) return av_fail(e, r, "encoding");
    if (e->pkt->duration <= 0) e->pkt->duration = 1;
    av_packet_rescale_ts(e->pkt, e->cc->time_base, e->st->time_base);
    e->pkt->stream_index = e->st->index;
    r = av_interleaved_write_frame(e->fmt, e->pkt);
    if (r < 0) return av_fail(e, r, "writing");
  }
}

// Frame i (RGB) into e->frame.
static dg_status fill_frame(enc *e, int i) {
  const dg_media *m = e->m;
  const uint8_t *px = dg_media_frame(m, i);
  int r = av_frame_make_writable(e->frame);
  if (r < 0) return av_fail(e, r, "frame buffer");
  if (e->quant)
    return dg_quantizer_map(e->quant, e->o->dither, px, m->channels, m->width, m->height, e->frame->data[0],
                            e->frame->linesize[0]);
  size_t row = (size_t)m->width * m->channels, prow = (size_t)e->width * m->channels;
  if (e->padded) {
    for (int y = 0; y < e->height; y++) {
      uint8_t *d = e->padded + y * prow;
      memcpy(d, px + (size_t)(y < m->height ? y : m->height - 1) * row, row);
      if (prow > row) memcpy(d + row, d + row - m->channels, (size_t)m->channels);
    }
    px = e->padded;
  }
  const uint8_t *src[1] = {px};
  const int stride[1] = {(int)prow};
  sws_scale(e->sws, src, stride, 0, e->height, e->frame->data, e->frame->linesize);
  return DG_OK;
}

// The GIF in memory written to `path` with the job JSON as a comment extension after the global colour
// table (before the first image or extension block; libav's gif muxer writes no comments).
static dg_status write_gif(enc *e, const char *path, const uint8_t *gif, int size) {
  const char *json = e->o->job_json;
  size_t head = 13;
  if (size < 13 || memcmp(gif, "GIF8", 4) != 0)
    return dg_fail(DG_ERR_FORMAT, "%s: gif export: libav wrote no GIF header", e->shown);
  if (gif[10] & 0x80) head += (size_t)3 << ((gif[10] & 7) + 1);
  if (head > (size_t)size) return dg_fail(DG_ERR_FORMAT, "%s: gif export: truncated colour table", e->shown);
  FILE *f = fopen(path, "wb");
  if (!f) return dg_fail(DG_ERR_IO, "%s: gif export: cannot write: %s", e->shown, strerror(errno));
  bool ok = fwrite(gif, 1, head, f) == head;
  if (json && *json) {
    static const uint8_t intro[2] = {0x21, 0xfe};
    ok = ok && fwrite(intro, 1, 2, f) == 2;
    for (size_t at = 0, n = strlen(json); ok && at < n; at += 255) {
      uint8_t len = (uint8_t)(n - at < 255 ? n - at : 255);
      ok = fputc(len, f) != EOF && fwrite(json + at, 1, len, f) == len;
    }
    ok = ok && fputc(0, f) != EOF;
  }
  ok = ok && fwrite(gif + head, 1, (size_t)size - head, f) == (size_t)size - head;
  if (fclose(f) != 0) ok = false;
  return ok ? DG_OK : dg_fail(DG_ERR_IO, "%s: gif export: cannot write: %s", e->shown, strerror(errno));
}

static dg_status run(enc *e, const char *path) {
  static const char *const muxers[] = {"mp4", "webm", "gif"};
  DG_TRY(open_all(e, path, muxers[e->o->format]));
  for (int i = 0; i < e->m->frames; i++) {
    DG_TRY(dg_video_cancel_check(e->shown, e->o, i, e->m->frames));
    DG_TRY(fill_frame(e, i));
    e->frame->pts = i;
    e->frame->pkt_duration = 1;
    int r = avcodec_send_frame(e->cc, e->frame);
    if (r < 0) return av_fail(e, r, "encoding");
    DG_TRY(drain(e));
    if (e->o->progress) e->o->progress(e->o->user, i + 1, e->m->frames);
  }
  int r = avcodec_send_frame(e->cc, NULL);
  if (r < 0) return av_fail(e, r, "encoding");
  DG_TRY(drain(e));
  r = av_write_trailer(e->fmt);
  e->trailer_written = true;
  if (r < 0) return av_fail(e, r, "writing the trailer");
  if (e->o->format != DG_VIDEO_GIF) {
    r = avio_closep(&e->fmt->pb);
    return r < 0 ? av_fail(e, r, "closing the file") : DG_OK;
  }
  uint8_t *gif = NULL;
  int size = avio_close_dyn_buf(e->fmt->pb, &gif);
  e->fmt->pb = NULL;
  dg_status s = write_gif(e, path, gif, size);
  av_free(gif);
  return s;
}

dg_status dg_video_encode(const char *path, const char *shown, const dg_media *m, const dg_video_export_opts *o,
                          dg_video_export_info *info) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, quiet_log);
  enc e = {.shown = shown,
           .fmt_name = dg_video_format_names[o->format],
           .m = m,
           .o = o,
           .width = m->width,
           .height = m->height};
  if (o->format == DG_VIDEO_MP4) e.width += e.width & 1, e.height += e.height & 1;
  dg_status s = run(&e, path);
  // After an error or a cancel the muxer still holds packets and state that only its trailer frees (the
  // gif muxer's previous packet); what it writes goes into the temporary, which is removed.
  if (e.header_written && !e.trailer_written) av_write_trailer(e.fmt);
  if (e.fmt && e.fmt->pb) {
    if (o->format == DG_VIDEO_GIF) {
      uint8_t *buf = NULL;
      avio_close_dyn_buf(e.fmt->pb, &buf);
      av_free(buf);
      e.fmt->pb = NULL;
    } else {
      avio_closep(&e.fmt->pb);
    }
  }
  avformat_free_context(e.fmt);
  avcodec_free_context(&e.cc);
  av_frame_free(&e.frame);
  av_packet_free(&e.pkt);
  sws_freeContext(e.sws);
  free(e.padded);
  dg_quantizer_free(e.quant);
  if (s == DG_OK && info) *info = (dg_video_export_info){e.width, e.height, dg_video_encoder_name(o->format)};
  return s;
}
