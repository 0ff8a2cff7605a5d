using TorchSharp;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

/// <summary>
/// A model that maps a clip's spectrogram [B, T, F] to class logits [B, classes] — an <see cref="AstModel"/> or an
/// <see cref="HtsatModel"/>. What training, evaluation, checkpoints and the phase transfer need of either.
/// </summary>
public abstract class AudioClassifier(string name) : nn.Module<Tensor, Tensor>(name)
{
    public abstract ModelGeometry Geometry { get; }

    /// <summary>The clip's representation before the classifier, [B, D].</summary>
    public abstract Tensor Embed(Tensor input);

    /// <summary>The state-dict key of the patch-embedding kernel, which a patch phase resizes (PI-resize).</summary>
    public abstract string PatchKernelKey { get; }

    /// <summary>A model of <paramref name="geometry"/>, its weights drawn from the torch generator as it stands.</summary>
    public static AudioClassifier Create(ModelGeometry geometry) => geometry.Validate().Architecture switch
    {
        ModelArchitecture.Htsat => new HtsatModel(geometry.Htsat!),
        _ => new AstModel(geometry.Ast!),
    };
}
