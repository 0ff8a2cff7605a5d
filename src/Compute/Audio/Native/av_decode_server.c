/*
 * actortraining-avdecode: a long-lived decoding process. AvDecoder (C#) keeps a few of these running and sends them
 * one clip after another, so a corpus in M4A, WMA, MP4 … neither starts a process per clip (as the ffmpeg executable
 * did) nor runs libavformat/libavcodec inside the trainer's process, where a decoder crash on one bad file would take
 * the run with it; here it costs that clip and a restart of this process.
 * Protocol on stdin/stdout, native byte order (parent and child are one machine):
 *   request:  int32 path_bytes, float64 start_seconds, float64 max_seconds (<= 0: to the end), path (UTF-8, no NUL)
 *   response: int32 status; status 0: int32 channels, int32 sample_rate, int64 frames, float32 samples[frames × channels]
 *             otherwise: int32 message_bytes, message (UTF-8)
 * End of stdin (the parent exited, even by kill -9) ends this process.
 */
#include <libavutil/log.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct at_decoded { float *samples; int64_t frames; int32_t channels; int32_t sample_rate; } at_decoded;
int at_av_decode(const char *path, double start_seconds, double max_seconds, at_decoded *out, char *error, int error_size);
void at_av_free(float *samples);

static int read_all(void *buffer, size_t n)
{
    for (size_t done = 0; done < n;) {
        ssize_t got = read(0, (char *)buffer + done, n - done);
        if (got <= 0) return -1;
        done += (size_t)got;
    }
    return 0;
}

static int write_all(const void *buffer, size_t n)
{
    for (size_t done = 0; done < n;) {
        ssize_t put = write(1, (const char *)buffer + done, n - done);
        if (put <= 0) return -1;
        done += (size_t)put;
    }
    return 0;
}

int main(void)
{
    av_log_set_level(AV_LOG_QUIET); /* reasons come back in the response, not on stderr */
    char path[65537];
    for (;;) {
        int32_t path_bytes;
        double start_seconds, max_seconds;
        if (read_all(&path_bytes, sizeof path_bytes) != 0) return 0;
        if (path_bytes <= 0 || path_bytes >= (int32_t)sizeof path) return 2;
        if (read_all(&start_seconds, sizeof start_seconds) || read_all(&max_seconds, sizeof max_seconds) || read_all(path, (size_t)path_bytes)) return 2;
        path[path_bytes] = 0;

        at_decoded decoded;
        char error[512];
        int32_t status = at_av_decode(path, start_seconds, max_seconds, &decoded, error, sizeof error);
        int failed = write_all(&status, sizeof status);
        if (status == 0) {
            failed = failed || write_all(&decoded.channels, sizeof decoded.channels) || write_all(&decoded.sample_rate, sizeof decoded.sample_rate)
                || write_all(&decoded.frames, sizeof decoded.frames)
                || (decoded.frames > 0 && write_all(decoded.samples, (size_t)(decoded.frames * decoded.channels) * sizeof(float)));
            at_av_free(decoded.samples);
        } else {
            int32_t message_bytes = (int32_t)strlen(error);
            failed = failed || write_all(&message_bytes, sizeof message_bytes) || write_all(error, (size_t)message_bytes);
        }
        if (failed) return 3;
    }
}
