using System.CommandLine;
using ActorTraining.Compute.Audio;
using ActorTraining.Compute.Features;

namespace ActorTraining.Host.Commands;

/// <summary>`actortraining features &lt;audio&gt; --out x.npy`: the raw log-mel fbank (before padding and normalisation).</summary>
public static class FeaturesCommand
{
    public static Command Create()
    {
        var audio = new Argument<string>("audio") { Description = "Audio or video file (WAV, FLAC, MP3, M4A, Ogg, MP4, …)" };
        var output = new Option<string>("--out") { Description = "Where to write the float32 [frames, bins] .npy", Required = true };
        var shift = new Option<double>("--frame-shift-ms") { Description = "Frame shift in ms (10·C for Frame-Shift compression)", DefaultValueFactory = _ => 10 };
        var bins = new Option<int>("--mel-bins") { Description = "Mel bins", DefaultValueFactory = _ => 128 };
        var command = new Command("features", "Decode an audio file to 16 kHz mono and write its AST log-mel fbank as a NumPy .npy");
        command.Arguments.Add(audio);
        command.Options.Add(output);
        command.Options.Add(shift);
        command.Options.Add(bins);
        command.SetAction(parse =>
        {
            var path = parse.GetValue(audio)!;
            var outPath = parse.GetValue(output)!;
            try
            {
                var options = new FbankOptions(parse.GetValue(shift), parse.GetValue(bins));
                var extractor = new FbankExtractor(options);
                var wave = AudioDecoder.Decode(path, new DecodeOptions(options.SampleRate));
                using var fbank = extractor.Compute(wave);
                NpyFile.Write(outPath, fbank.data<float>().ToArray(), fbank.shape);
                Console.WriteLine($"{outPath}: {fbank.shape[0]} frames × {fbank.shape[1]} mel bins, {options.FrameShiftMs} ms shift, {wave.Length / (double)options.SampleRate:0.###} s of audio");
                return 0;
            }
            catch (Exception e) when (e is AudioDecodeException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: {OneLine(e.Message)}");
                return 1;
            }
        });
        return command;
    }

    internal static string OneLine(string message) => message.ReplaceLineEndings(" ");
}
