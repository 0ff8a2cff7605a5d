using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

/// <summary>
/// A model that maps a clip's spectrogram [B, T, F] to class logits [B, classes] — an <see cref="AstModel"/> or an
/// <see cref="HtsatModel"/>. What training, evaluation, checkpoints and the phase transfer need of either is
/// <see cref="AudioModel"/>'s.
/// </summary>
public abstract class AudioClassifier(string name) : AudioModel(name)
{
    /// <summary>A classifier of <paramref name="geometry"/> (not a pretraining geometry), weights from the torch generator.</summary>
    public static new AudioClassifier Create(ModelGeometry geometry) => AudioModel.Create(geometry) as AudioClassifier
        ?? throw new ArgumentException($"{geometry.Name} is a pretraining model, not a classifier", nameof(geometry));
}
