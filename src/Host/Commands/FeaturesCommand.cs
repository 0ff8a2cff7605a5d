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
        var fbank = new FbankArguments();
        var command = new Command("features", "Decode an audio file to 16 kHz mono and write its AST log-mel fbank as a NumPy .npy");
        command.Arguments.Add(audio);
        command.Options.Add(output);
        fbank.AddTo(command);
        command.SetAction(parse =>
        {
            var path = parse.GetValue(audio)!;
            var outPath = parse.GetValue(output)!;
            var options = fbank.Read(parse);
            var extractor = new FbankExtractor(options);
            var wave = AudioDecoder.Decode(path, new DecodeOptions(options.SampleRate));
            using var features = extractor.Compute(wave);
            NpyFile.Write(outPath, features.data<float>().ToArray(), features.shape);
            Console.WriteLine($"{outPath}: {features.shape[0]} frames × {features.shape[1]} mel bins, {options.FrameShiftMs} ms shift, {wave.Length / (double)options.SampleRate:0.###} s of audio");
            return 0;
        });
        return command;
    }
}
