using static TorchSharp.torch;

namespace ActorTraining.Compute.Checkpoints;

/// <summary>
/// The default CPU generator's state as bytes, for <see cref="TrainingCheckpointInfo.TorchRngState"/>, and the one
/// gate through which code touches that generator. It is process-wide and shared by every thread (trainer,
/// evaluator), and module constructors draw from it (Linear's own init), so a model built only to receive loaded
/// weights must not move it: otherwise the trainer's checkpointed RNG state, or a seeded initialisation, depends on
/// how many evaluations happened to run beside it.
/// </summary>
public static class TorchRng
{
    private static readonly object Gate = new();

    public static byte[] Capture()
    {
        lock (Gate)
        {
            using var state = get_rng_state();
            return state.bytes.ToArray();
        }
    }

    public static void Restore(byte[] state)
    {
        lock (Gate)
        {
            using var tensor = empty(state.Length, ScalarType.Byte);
            tensor.bytes = state;
            set_rng_state(tensor);
        }
    }

    /// <summary>Runs <paramref name="create"/> and puts the generator back as it was (for models whose weights are then loaded).</summary>
    public static T Preserving<T>(Func<T> create)
    {
        lock (Gate)
        {
            var state = Capture();
            try { return create(); }
            finally { Restore(state); }
        }
    }

    /// <summary>Seeds the generator and runs <paramref name="create"/> with no other thread drawing in between.</summary>
    public static T Seeded<T>(long seed, Func<T> create)
    {
        lock (Gate)
        {
            manual_seed(seed);
            return create();
        }
    }
}
