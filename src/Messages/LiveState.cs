namespace ActorTraining.Messages;

/// <summary>
/// The training state a rank holds in memory: of run <paramref name="RunIndex"/>, phase <paramref name="Phase"/>, made
/// in generation <paramref name="Generation"/>, after <paramref name="Step"/> optimiser steps, at
/// <paramref name="Position"/> of <paramref name="Epoch"/>; <paramref name="ParameterHash"/> identifies the weights (all
/// replicas of a step have the same). <paramref name="Running"/>: the rank is still training it (not yet stopped).
/// What the phase supervisor needs to continue from survivors instead of a checkpoint file.
/// </summary>
public sealed record LiveState(int RunIndex, int Phase, int Generation, int Epoch, long Position, long Step,
    string ParameterHash, EpochTotals Totals, double Lr, bool Running);
