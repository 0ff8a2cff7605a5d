using static TorchSharp.torch;

namespace ActorTraining.Compute.Checkpoints;

/// <summary>The default CPU generator's state as bytes, for <see cref="TrainingCheckpointInfo.TorchRngState"/>.</summary>
public static class TorchRng
{
    public static byte[] Capture()
    {
        using var state = get_rng_state();
        return state.bytes.ToArray();
    }

    public static void Restore(byte[] state)
    {
        using var tensor = empty(state.Length, ScalarType.Byte);
        tensor.bytes = state;
        set_rng_state(tensor);
    }
}
