using ActorTraining.Compute.Model;
using ActorTraining.Compute.Runtime;
using ActorTraining.Compute.Training;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

/// <summary>
/// The patches SSAST masks in a batch's clips, each clip's from (seed, phase, epoch, position): the same on resume and
/// however the global batch is split across ranks. An evaluation passes <see cref="SampleSeed.EvaluationEpoch"/>, so
/// every epoch of a phase is scored on the same masks.
/// </summary>
public static class PretextMasks
{
    public static (Tensor Discriminative, Tensor Generative) Of(SsastModel model, IEnumerable<long> positions, int seed, int phase, int epoch, RankDevice device) =>
        model.Masking.Masks(model.Config, positions.Select(position => SampleSeed.ForMasks(seed, phase, epoch, position)).ToList(), device);
}
