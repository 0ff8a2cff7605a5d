namespace ActorTraining.Compute.Training;

/// <summary>BCE with logits for multi-label corpora, cross-entropy (soft targets) for single-label ones.</summary>
public enum LossKind { BinaryCrossEntropy, CrossEntropy }
