using System.CommandLine;
using ActorTraining.Actors;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Compute.Features;
using ActorTraining.Compute.Model;

namespace ActorTraining.Host.Commands;

/// <summary>`actortraining export --checkpoint K --format hf|onnx --out DIR|FILE`: a trained checkpoint in another ecosystem's form.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint file written by train (a full-resolution phase's)", Required = true };
        var format = new Option<string>("--format")
        {
            Description = "hf: a Hugging Face folder of ASTForAudioClassification (config.json, model.safetensors, preprocessor_config.json, " +
                "and onnx/model.onnx as transformers.js and optimum load it); onnx: one ONNX model file (opset 17) from the normalised fbank to the logits",
            Required = true,
        };
        format.AcceptOnlyFromAmong("hf", "onnx");
        var output = new Option<string>("--out") { Description = "hf: the folder to write (created; its files replaced); onnx: the .onnx file", Required = true };
        var command = new Command("export", "Export a checkpoint's model (hf: Hugging Face transformers' AST; onnx: ONNX Runtime)") { checkpoint, format, output };
        command.SetAction(parse =>
        {
            var path = Path.GetFullPath(parse.GetValue(checkpoint)!);
            var manifest = CheckpointManifest.Read(path);
            if (manifest.Phase.Factor != 1)
                throw new InvalidDataException($"{path}: a checkpoint of phase {manifest.Phase.Index} ({manifest.Phase.Compression.MethodWord}, C = {manifest.Phase.Compression.Factor}) " +
                    "takes compressed spectrograms; export a full-resolution (C = 1) phase's checkpoint, e.g. the run's last");
            var experiment = manifest.Experiment;
            var header = CheckpointFile.ReadHeader(path);
            var c = header.Model is { Ast: { } ast, Pretraining: false } ? ast : throw new InvalidDataException(
                $"{path}: a checkpoint of an {header.Model.Name}{(header.Model.Pretraining ? " (pretraining: no classifier yet; fine-tune it with model.init = checkpoint:<file>)" : "")}; " +
                $"export --format {parse.GetValue(format)} writes AST classifiers (transformers' and our ONNX graph are AST's)");
            using var model = new AstModel(c);
            CheckpointFile.Load(path, model, null);
            var target = Path.GetFullPath(parse.GetValue(output)!);
            if (parse.GetValue(format) == "onnx")
            {
                OnnxExport.Write(target, model);
                Console.WriteLine($"{target}: ONNX opset {OnnxExport.Opset}, input '{OnnxExport.InputName}' float32 [batch, {c.TargetLength}, {c.MelBins}] " +
                    $"(fbank normalised as (x − {experiment.FrontEnd.Mean}) / (2 · {experiment.FrontEnd.Std})), output '{OnnxExport.OutputName}' [batch, {c.NumClasses}]");
                return 0;
            }
            // what transformers' AST cannot compute (rectangular patches, mean-tokens pooling) is refused before anything is written
            try
            {
                HuggingFaceAst.Write(target, model, manifest.DisplayNames,
                    new HuggingFaceAst.FeatureExtractor(new FbankOptions().SampleRate, experiment.FrontEnd.Mean, experiment.FrontEnd.Std));
            }
            catch (ArgumentException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
            OnnxExport.Write(Path.Combine(target, "onnx", "model.onnx"), model);
            Console.WriteLine($"{target}: config.json, model.safetensors, preprocessor_config.json, onnx/model.onnx " +
                $"(ASTForAudioClassification, {c.NumClasses} classes, {c.TargetLength} frames × {c.MelBins} mel)");
            if (experiment.FrontEnd.FrameShiftMs != 10)
                Console.Error.WriteLine($"warning: the model was trained on fbanks with a {experiment.FrontEnd.FrameShiftMs} ms frame shift; " +
                    "transformers' ASTFeatureExtractor computes 10 ms frames");
            return 0;
        });
        return command;
    }
}
