using Akka.Actor;
using Akka.Event;
using ActorTraining.Compute.Checkpoints;
using ActorTraining.Messages;

namespace ActorTraining.Actors;

/// <summary>
/// Writes the weight average of the last phase's epoch ends (<see cref="WeightAverage"/>: file work, no torch) off the
/// mailbox, next to the checkpoints it reads, and answers <see cref="WeightsAveraged"/> or <see cref="Failed"/>. A kill
/// meanwhile leaves at most a temporary file; the run resumed writes it again.
/// </summary>
public sealed class WeightAverager : ReceiveActor
{
    /// <summary>Average <paramref name="Inputs"/>, the epoch ends <paramref name="Range"/> of the run's last phase <paramref name="Phase"/>.</summary>
    public sealed record Average(int RunIndex, int Phase, WeightAveraging Range, IReadOnlyList<CheckpointCommitted> Inputs);

    public sealed record Failed(Exception Cause);

    public WeightAverager()
    {
        string? writing = null; // asked again while it is written (every commit asks): once is enough
        Receive<Average>(a => a.Inputs.Count > 0, a =>
        {
            if (writing is not null) return;
            Context.GetLogger().Info("phase {0}: averaging the weights of {1} ({2} checkpoints)", a.Phase, a.Range, a.Inputs.Count);
            var output = Path.Combine(Path.GetDirectoryName(a.Inputs[^1].Path)!,
                $"r{a.RunIndex}-p{a.Phase}-averaged-e{a.Range.FirstEpoch + 1}-e{a.Range.LastEpoch + 1}.ckpt");
            var inputs = a.Inputs.Select(c => (c.Path, (string?)c.Sha256)).ToList();
            writing = output;
            Task.Run(() =>
            {
                FaultInjection.At("supervisor.average");
                return new WeightsAveraged(a.Phase, a.Range, output, WeightAverage.Write(inputs, output));
            }).PipeTo(Self, Sender, failure: ex => new Failed(ex));
        });
        // the answer goes on to the supervisor once nothing is being written: it may ask again, and be answered
        Receive<WeightsAveraged>(w => { writing = null; Context.Parent.Tell(w); });
        Receive<Failed>(f => { writing = null; Context.Parent.Tell(f); });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new WeightAverager());
}
