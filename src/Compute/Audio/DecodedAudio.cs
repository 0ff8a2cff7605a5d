namespace ActorTraining.Compute.Audio;

/// <summary>Interleaved float samples in [-1, 1] as a format decoder produced them, before downmix and resampling.</summary>
public sealed record DecodedAudio(float[] Interleaved, int Channels, int SampleRate)
{
    public int Frames => Interleaved.Length / Channels;

    /// <summary>Mono by averaging all channels (AST itself takes channel 0 of a stereo file; averaging keeps both sides).</summary>
    public float[] Mono()
    {
        if (Channels == 1) return Interleaved;
        var mono = new float[Frames];
        float scale = 1f / Channels;
        for (int i = 0, k = 0; i < mono.Length; i++)
        {
            float sum = 0;
            for (int c = 0; c < Channels; c++) sum += Interleaved[k++];
            mono[i] = sum * scale;
        }
        return mono;
    }
}
