namespace ActorTraining.Compute.Audio;

/// <summary>
/// Any audio (or video-with-audio) file → mono float32 at options.SampleRate. The container is recognised from
/// magic bytes, not the extension: WAV and AIFF (NAudio.Core's readers, see WavDecoder/AiffDecoder), MP3 (libmpg123,
/// gapless), FLAC (libFLAC), Ogg Vorbis (NVorbis) and Ogg Opus (libopus or Concentus) in the process, everything else
/// through libavformat/libavcodec in long-lived helper processes (AvDecoder), and the ffmpeg executable only where that
/// helper was not built.
/// Mono = average of channels; resampling = <see cref="KaiserResampler"/> (the ffmpeg executable resamples its own output).
/// Every failure is an <see cref="AudioDecodeException"/> naming the file and the reason.
/// Stateless and thread-safe.
/// </summary>
public static class AudioDecoder
{
    public static float[] Decode(string path, DecodeOptions? options = null)
    {
        options ??= new DecodeOptions();
        if (options.SampleRate is < 1000 or > 384_000) throw new ArgumentOutOfRangeException(nameof(options), $"target sample rate {options.SampleRate} Hz");
        if (options.StartSeconds < 0 || !double.IsFinite(options.StartSeconds)) throw new ArgumentOutOfRangeException(nameof(options), $"start {options.StartSeconds} s");
        if (options.MaxSeconds is { } m && (m <= 0 || !double.IsFinite(m))) throw new ArgumentOutOfRangeException(nameof(options), $"max duration {m} s");

        var fullPath = Path.GetFullPath(path);
        FileInfo info = new(fullPath);
        if (Data.InputFile.Problem(fullPath) is { } problem) throw new AudioDecodeException(fullPath, problem);
        if (!info.Exists) throw new AudioDecodeException(fullPath, "file not found");

        DecodedAudio? audio;
        using (var stream = OpenRead(fullPath))
        {
            var head = new byte[AudioSniffer.HeaderBytes];
            int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            stream.Position = 0;
            var container = AudioSniffer.Detect(head.AsSpan(0, n));
            audio = container switch
            {
                AudioContainer.Wav => WavDecoder.Decode(fullPath, stream, options),     // null for compressed payloads: the rest
                AudioContainer.Aiff => AiffDecoder.Decode(fullPath, stream, options),   // null for compressed AIFF-C: the rest
                AudioContainer.Mp3 => Mp3Decoder.Decode(fullPath, options),   // null without libmpg123: the rest
                AudioContainer.OggVorbis => VorbisDecoder.Decode(fullPath, stream, options),
                AudioContainer.OggOpus => OpusDecoder.Decode(fullPath, stream, options), // null for chained files: the rest
                AudioContainer.Flac => FlacDecoder.Decode(fullPath, options), // null without libFLAC: the rest
                _ => null,
            };
        }
        audio ??= AvDecoder.Decode(fullPath, options) ?? FfmpegDecoder.Decode(fullPath, options);

        if (audio.Frames == 0)
            throw new AudioDecodeException(fullPath, options.StartSeconds > 0 ? $"no audio samples after {options.StartSeconds} s" : "no audio samples");
        var mono = audio.Mono();
        CheckFinite(fullPath, mono);
        mono = KaiserResampler.Resample(mono, audio.SampleRate, options.SampleRate); // a no-op for ffmpeg's output, already at the rate
        return mono;
    }

    private static FileStream OpenRead(string path)
    {
        try { return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AudioDecodeException(path, $"cannot open: {e.Message}", e);
        }
    }

    private static void CheckFinite(string path, float[] samples)
    {
        for (int i = 0; i < samples.Length; i++)
            if (!float.IsFinite(samples[i]))
                throw new AudioDecodeException(path, $"non-finite sample ({samples[i]}) at sample {i}");
    }
}
