/*
 * Decodes the first audio stream of any file libavformat/libavcodec read (M4A/AAC, ALAC, WMA, AC-3, MP4/MKV/WebM
 * audio tracks, ADPCM WAV, compressed AIFF-C ...) to interleaved float32 at the stream's own rate and channel count
 * (the C# side averages channels and resamples, as for every other decoder). Runs in actortraining-avdecode, the
 * long-lived decoding process of av_decode_server.c.
 * C rather than P/Invoke into libav* from C#: AVStream/AVFrame field offsets change between FFmpeg versions (codecpar
 * sits at byte 208 of AVStream in 5.1 and at 16 in 6.0), so this is compiled against the installed headers at build
 * time (src/Compute/Compute.csproj).
 */
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/samplefmt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct at_decoded {
    float *samples;   /* interleaved, channels × frames; free with at_av_free */
    int64_t frames;
    int32_t channels;
    int32_t sample_rate;
} at_decoded;

enum { AT_OK = 0, AT_NOT_MEDIA = 1, AT_NO_AUDIO = 2, AT_CORRUPT = 3, AT_NO_MEMORY = 4, AT_TOO_LONG = 5 };

static int fail(char *error, int error_size, int code, const char *what, int averror)
{
    char reason[AV_ERROR_MAX_STRING_SIZE] = "";
    if (averror < 0) av_strerror(averror, reason, sizeof reason);
    snprintf(error, (size_t)error_size, "%s%s%s", what, reason[0] ? ": " : "", reason);
    return code;
}

/* One sample of any libav sample format as float in [-1, 1] (planar formats index their own plane). */
static float sample_at(const AVFrame *f, enum AVSampleFormat fmt, int channels, int i, int c)
{
    int planar = av_sample_fmt_is_planar(fmt);
    const uint8_t *plane = f->extended_data[planar ? c : 0];
    int k = planar ? i : i * channels + c;
    switch (av_get_packed_sample_fmt(fmt)) {
    case AV_SAMPLE_FMT_U8:  return (plane[k] - 128) / 128.0f;
    case AV_SAMPLE_FMT_S16: return ((const int16_t *)plane)[k] / 32768.0f;
    case AV_SAMPLE_FMT_S32: return (float)(((const int32_t *)plane)[k] / 2147483648.0);
    case AV_SAMPLE_FMT_S64: return (float)(((const int64_t *)plane)[k] / 9223372036854775808.0);
    case AV_SAMPLE_FMT_FLT: return ((const float *)plane)[k];
    case AV_SAMPLE_FMT_DBL: return (float)((const double *)plane)[k];
    default: return 0.0f; /* ruled out before decoding starts */
    }
}

int at_av_version(void) { return (int)avformat_version(); }

void at_av_free(float *samples) { free(samples); }

/* start_seconds: seek there first (as `ffmpeg -ss` before `-i`: to the key frame before it, then drop by timestamps);
 * max_seconds <= 0: to the end. Returns AT_OK or an error code with a message in error. */
int at_av_decode(const char *path, double start_seconds, double max_seconds, at_decoded *out, char *error, int error_size)
{
    AVFormatContext *format = NULL;
    AVCodecContext *codec = NULL;
    AVPacket *packet = NULL;
    AVFrame *frame = NULL;
    float *samples = NULL;
    int64_t capacity = 0, frames = 0, limit = INT64_MAX;
    int status = AT_OK, channels = 0, rate = 0, stream_index, ret;
    const AVCodec *decoder = NULL;
    double origin = 0, next_time = 0;
    memset(out, 0, sizeof *out);
    error[0] = 0;

    if ((ret = avformat_open_input(&format, path, NULL, NULL)) < 0) {
        status = fail(error, error_size, AT_NOT_MEDIA, "not a recognised audio format", ret);
        goto done;
    }
    if ((ret = avformat_find_stream_info(format, NULL)) < 0) {
        status = fail(error, error_size, AT_CORRUPT, "cannot read the stream layout", ret);
        goto done;
    }
    stream_index = av_find_best_stream(format, AVMEDIA_TYPE_AUDIO, -1, -1, &decoder, 0);
    if (stream_index == AVERROR_STREAM_NOT_FOUND) { status = fail(error, error_size, AT_NO_AUDIO, "no audio stream in this file", 0); goto done; }
    if (stream_index < 0) { status = fail(error, error_size, AT_CORRUPT, "no decoder for its audio stream", stream_index); goto done; }
    AVStream *stream = format->streams[stream_index];
    if (!(codec = avcodec_alloc_context3(decoder))) { status = fail(error, error_size, AT_NO_MEMORY, "out of memory", 0); goto done; }
    if ((ret = avcodec_parameters_to_context(codec, stream->codecpar)) < 0 || (ret = avcodec_open2(codec, decoder, NULL)) < 0) {
        status = fail(error, error_size, AT_CORRUPT, "cannot open the audio decoder", ret);
        goto done;
    }
    for (unsigned i = 0; i < format->nb_streams; i++) if ((int)i != stream_index) format->streams[i]->discard = AVDISCARD_ALL;

    if (format->start_time != AV_NOPTS_VALUE) origin = format->start_time / (double)AV_TIME_BASE;
    if (start_seconds > 0) {
        /* Half a second early: a transform codec's first frame after a seek lacks the overlap of the one before it (AAC's
         * first 1 024 samples came out wrong when seeking straight to the start); those samples are dropped below. */
        double early = start_seconds > 0.5 ? start_seconds - 0.5 : 0;
        int64_t target = (int64_t)(early * AV_TIME_BASE) + (format->start_time != AV_NOPTS_VALUE ? format->start_time : 0);
        avformat_seek_file(format, -1, INT64_MIN, target, target, 0); /* a failed seek decodes from the start: still exact */
        avcodec_flush_buffers(codec);
    }
    next_time = origin;

    packet = av_packet_alloc();
    frame = av_frame_alloc();
    if (!packet || !frame) { status = fail(error, error_size, AT_NO_MEMORY, "out of memory", 0); goto done; }

    int finished = 0, draining = 0;
    while (!finished) {
        if (!draining) {
            ret = av_read_frame(format, packet);
            if (ret == AVERROR_EOF) { draining = 1; ret = avcodec_send_packet(codec, NULL); }
            else if (ret < 0) { status = fail(error, error_size, AT_CORRUPT, "corrupt stream", ret); goto done; }
            else {
                if (packet->stream_index == stream_index) ret = avcodec_send_packet(codec, packet);
                else ret = 0;
                av_packet_unref(packet);
            }
            if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_EOF) { status = fail(error, error_size, AT_CORRUPT, "corrupt audio packet", ret); goto done; }
        }
        while ((ret = avcodec_receive_frame(codec, frame)) >= 0) {
            enum AVSampleFormat fmt = (enum AVSampleFormat)frame->format;
            int frame_channels = frame->ch_layout.nb_channels;
            if (channels == 0) {
                channels = frame_channels; rate = frame->sample_rate;
                if (channels < 1 || channels > 255 || rate < 1000 || rate > 768000) {
                    status = fail(error, error_size, AT_CORRUPT, "absurd audio parameters from the decoder", 0); goto done;
                }
                if (max_seconds > 0) limit = (int64_t)(max_seconds * rate + 0.999999);
            }
            if (frame_channels != channels || frame->sample_rate != rate) {
                status = fail(error, error_size, AT_CORRUPT, "channel count or sample rate changes inside the stream", 0); goto done;
            }
            switch (av_get_packed_sample_fmt(fmt)) {
            case AV_SAMPLE_FMT_U8: case AV_SAMPLE_FMT_S16: case AV_SAMPLE_FMT_S32: case AV_SAMPLE_FMT_S64:
            case AV_SAMPLE_FMT_FLT: case AV_SAMPLE_FMT_DBL: break;
            default: status = fail(error, error_size, AT_CORRUPT, "unknown sample format from the decoder", 0); goto done;
            }
            double time = frame->best_effort_timestamp != AV_NOPTS_VALUE ? frame->best_effort_timestamp * av_q2d(stream->time_base) : next_time;
            next_time = time + frame->nb_samples / (double)rate;
            int first = 0;
            if (start_seconds > 0) {
                double skip = (origin + start_seconds - time) * rate;
                if (skip >= frame->nb_samples) { av_frame_unref(frame); continue; }
                if (skip > 0) first = (int)(skip + 0.5);
            }
            int64_t take = frame->nb_samples - first;
            if (take > limit - frames) take = limit - frames;
            if (frames + take > capacity) {
                int64_t grown = capacity ? capacity * 2 : 1 << 16;
                while (grown < frames + take) grown *= 2;
                if (grown * channels > ((int64_t)1 << 31) - 64) { status = fail(error, error_size, AT_TOO_LONG, "too long to decode at once; use a max duration", 0); goto done; }
                float *bigger = realloc(samples, (size_t)(grown * channels) * sizeof(float));
                if (!bigger) { status = fail(error, error_size, AT_NO_MEMORY, "out of memory", 0); goto done; }
                samples = bigger; capacity = grown;
            }
            for (int64_t i = 0; i < take; i++)
                for (int c = 0; c < channels; c++)
                    samples[(frames + i) * channels + c] = sample_at(frame, fmt, channels, (int)(first + i), c);
            frames += take;
            av_frame_unref(frame);
            if (frames >= limit) { finished = 1; break; }
        }
        if (ret == AVERROR_EOF) finished = 1;
        else if (ret < 0 && ret != AVERROR(EAGAIN)) { status = fail(error, error_size, AT_CORRUPT, "corrupt audio", ret); goto done; }
    }
    out->samples = samples; samples = NULL;
    out->frames = frames;
    out->channels = channels;
    out->sample_rate = rate;
done:
    free(samples);
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&codec);
    avformat_close_input(&format);
    return status;
}
