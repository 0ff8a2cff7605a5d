namespace ActorTraining.Messages;

/// <summary>
/// A message of the data pipeline (reader → decoder → spectrogram → compressor → batcher → trainer). These carry
/// audio and spectrograms as float[] and are meant to stay inside one node: the whole chain of one trainer is
/// co-located, so they never cross the network. Never a tensor — tensors live only inside one actor's handler.
/// </summary>
public interface IPipelineMessage;
