// Decoding a written video back for the export tests (video_read.h).
#include "video_read.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The first GIF comment extension's text (libav's gif demuxer keeps none).
static char *gif_comment(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)n);
  char *text = NULL;
  if (b && fread(b, 1, (size_t)n, f) == (size_t)n && n > 13 && !memcmp(b, "GIF8", 4)) {
    long at = 13 + ((b[10] & 0x80) ? 3L << ((b[10] & 7) + 1) : 0);
    while (at + 2 < n && b[at] == 0x21) {
      bool comment = b[at + 1] == 0xfe;
      size_t len = 0;
      char *t = comment ? malloc((size_t)n) : NULL;
      for (at += 2; at < n && b[at]; at += b[at] + 1)
        if (t && at + 1 + b[at] <= n) memcpy(t + len, b + at + 1, b[at]), len += b[at];
      at++;
      if (t) {
        t[len] = 0;
        text = t;
        break;
      }
    }
  }
  free(b);
  fclose(f);
  return text;
}

bool video_read_file(const char *path, video_read *out) {
  memset(out, 0, sizeof *out);
  AVFormatContext *fmt = NULL;
  AVCodecContext *cc = NULL;
  AVFrame *frame = av_frame_alloc();
  AVPacket *pkt = av_packet_alloc();
  struct SwsContext *sws = NULL;
  bool ok = false;
  size_t cap = 0;
  int64_t first = INT64_MIN, last = 0, last_dur = 0;
  if (avformat_open_input(&fmt, path, NULL, NULL) < 0 || avformat_find_stream_info(fmt, NULL) < 0) {
    fprintf(stderr, "%s: libavformat cannot open it\n", path);
    goto done;
  }
  const AVCodec *codec = NULL;
  int si = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (si < 0 || !codec) goto done;
  AVStream *st = fmt->streams[si];
  cc = avcodec_alloc_context3(codec);
  if (!cc || avcodec_parameters_to_context(cc, st->codecpar) < 0 || avcodec_open2(cc, codec, NULL) < 0) goto done;
  out->fps = av_q2d(st->avg_frame_rate);
  out->fps_num = st->avg_frame_rate.num, out->fps_den = st->avg_frame_rate.den;
  const AVDictionaryEntry *c = av_dict_get(fmt->metadata, "comment", NULL, 0);
  out->comment = c ? strdup(c->value) : gif_comment(path);
  bool flushing = false;
  for (;;) {
    int r = flushing ? AVERROR_EOF : av_read_frame(fmt, pkt);
    if (r == AVERROR_EOF) {
      if (!flushing) avcodec_send_packet(cc, NULL);
      flushing = true;
    } else if (r < 0) {
      goto done;
    } else {
      if (pkt->stream_index == si) avcodec_send_packet(cc, pkt);
      av_packet_unref(pkt);
    }
    while ((r = avcodec_receive_frame(cc, frame)) == 0) {
      if (!out->frames) out->width = frame->width, out->height = frame->height;
      if (frame->width != out->width || frame->height != out->height) goto done;
      size_t fb = (size_t)out->width * out->height * 3;
      if ((size_t)(out->frames + 1) * fb > cap) {
        cap = cap ? 2 * cap : 16 * fb;
        uint8_t *g = realloc(out->rgb, cap);
        if (!g) goto done;
        out->rgb = g;
      }
      sws =
          sws_getCachedContext(sws, frame->width, frame->height, frame->format, frame->width, frame->height,
                               AV_PIX_FMT_RGB24, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
      if (!sws) goto done;
      uint8_t *dst[1] = {out->rgb + (size_t)out->frames * fb};
      int stride[1] = {out->width * 3};
      sws_scale(sws, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height, dst, stride);
      int64_t t = frame->best_effort_timestamp;
      if (first == INT64_MIN) first = t;
      last = t, last_dur = frame->pkt_duration;
      out->frames++;
    }
    if (r == AVERROR_EOF) break;
    if (r != AVERROR(EAGAIN)) goto done;
  }
  out->duration = (double)(last + last_dur - first) * av_q2d(st->time_base);
  ok = true;
done:
  sws_freeContext(sws);
  av_packet_free(&pkt);
  av_frame_free(&frame);
  avcodec_free_context(&cc);
  avformat_close_input(&fmt);
  if (!ok) video_read_clear(out);
  return ok;
}

void video_read_clear(video_read *v) {
  free(v->comment);
  free(v->rgb);
  memset(v, 0, sizeof *v);
}

double video_psnr(const video_read *v, const uint8_t *src, int w, int h, int frames) {
  double sum = 0;
  for (int f = 0; f < frames; f++) {
    double se = 0;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w * 3; x++) {
        double d =
            (double)v->rgb[((size_t)f * v->height + y) * v->width * 3 + x] - src[((size_t)f * h + y) * w * 3 + x];
        se += d * d;
      }
    double mse = se / ((double)w * h * 3);
    sum += mse > 0 ? 10 * log10(255.0 * 255.0 / mse) : 99;
  }
  return sum / frames;
}
