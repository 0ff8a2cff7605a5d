namespace ActorTraining.Compute.Audio;

/// <summary>
/// Any audio (or video-with-audio) file → mono float32 at options.SampleRate. The container is recognised from
/// magic bytes, not the extension: WAV (our RIFF reader, see WavDecoder), MP3 (libmpg123, gapless), FLAC (libFLAC) and
/// Ogg Vorbis (NVorbis) in the process, everything else via ffmpeg (MP3 and FLAC too when their library is missing).
/// Mono = average of channels; resampling = <see cref="KaiserResampler"/> (ffmpeg sources are resampled by ffmpeg).
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
        bool resampled;
        using (var stream = OpenRead(fullPath))
        {
            var head = new byte[AudioSniffer.HeaderBytes];
            int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            stream.Position = 0;
            var container = AudioSniffer.Detect(head.AsSpan(0, n));
            audio = container switch
            {
                AudioContainer.Wav => WavDecoder.Decode(fullPath, stream, options),
                AudioContainer.Mp3 => Mp3Decoder.Decode(fullPath, options),   // null without libmpg123: ffmpeg
                AudioContainer.OggVorbis => VorbisDecoder.Decode(fullPath, stream, options),
                AudioContainer.Flac => FlacDecoder.Decode(fullPath, options), // null without libFLAC: ffmpeg
                _ => null,
            };
            resampled = audio is null;
        }
        audio ??= FfmpegDecoder.Decode(fullPath, options);

        if (audio.Frames == 0)
            throw new AudioDecodeException(fullPath, options.StartSeconds > 0 ? $"no audio samples after {options.StartSeconds} s" : "no audio samples");
        var mono = audio.Mono();
        CheckFinite(fullPath, mono);
        if (!resampled) mono = KaiserResampler.Resample(mono, audio.SampleRate, options.SampleRate);
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
