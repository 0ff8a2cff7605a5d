using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

/// <summary>
/// A model over a clip's spectrogram [B, T, F] that a run trains, checkpoints and carries from phase to phase: a
/// classifier (<see cref="AstModel"/>, <see cref="HtsatModel"/>: forward gives class logits [B, classes]) or SSAST's
/// pretraining model (<see cref="SsastModel"/>: forward gives the clip's representation; it learns from its pretext tasks).
/// </summary>
public abstract class AudioModel(string name) : nn.Module<Tensor, Tensor>(name)
{
    static AudioModel() => Runtime.TorchRuntime.Configure();

    public abstract ModelGeometry Geometry { get; }

    /// <summary>The clip's representation before any classifier, [B, D].</summary>
    public abstract Tensor Embed(Tensor input);

    /// <summary>The state-dict key of the patch-embedding kernel, which a patch phase resizes (PI-resize).</summary>
    public abstract string PatchKernelKey { get; }

    /// <summary>A model of <paramref name="geometry"/>, its weights drawn from the torch generator as it stands.</summary>
    public static AudioModel Create(ModelGeometry geometry) => geometry.Validate() switch
    {
        { Htsat: { } htsat } => new HtsatModel(htsat),
        { Pretext: { } pretext } g => new SsastModel(g.Ast!, pretext),
        var g => new AstModel(g.Ast!),
    };
}
