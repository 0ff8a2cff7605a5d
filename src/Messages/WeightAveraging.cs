namespace ActorTraining.Messages;

/// <summary>
/// The AST reference's weight averaging (its <c>--wa</c>, <c>--wa_start</c>, <c>--wa_end</c>): once the last phase is
/// trained, the weights of its epochs <paramref name="FirstEpoch"/>…<paramref name="LastEpoch"/> are averaged into one
/// checkpoint, which is evaluated and reported like an epoch and is the run's final checkpoint. An epoch ≥ 0 is 0-based
/// here (the configuration counts from 1, as the reference); a negative one counts from the phase's end (−1 its last
/// epoch), so one setting means "the last k epochs" for every run of a comparison and for a last phase whose length the
/// adaptive scheduler decides. Only the last phase: earlier phases have other input geometries (a pooled phase's
/// positional grid, a patch phase's kernel), so their weights are not points of the same space.
/// </summary>
public sealed record WeightAveraging(int FirstEpoch, int LastEpoch)
{
    /// <summary>The range in a phase of <paramref name="epochs"/> epochs, both ends 0-based; clamped into it (a valid
    /// configuration never needs that: it is checked against every run's last phase).</summary>
    public WeightAveraging In(int epochs)
    {
        int At(int e) => Math.Clamp(e < 0 ? epochs + e : e, 0, Math.Max(0, epochs - 1));
        return new WeightAveraging(At(FirstEpoch), Math.Max(At(FirstEpoch), At(LastEpoch)));
    }

    public int Count => LastEpoch - FirstEpoch + 1;

    /// <summary>A resolved range as people count epochs: "epochs 6–25".</summary>
    public override string ToString() => FirstEpoch == LastEpoch ? $"epoch {FirstEpoch + 1}" : $"epochs {FirstEpoch + 1}–{LastEpoch + 1}";
}
