namespace ActorTraining.Messages;

/// <summary>What an evaluation pass sends back per clip: scores for the metrics (<c>train</c>, <c>evaluate</c>), class
/// probabilities (<c>predict</c>) or the pooled representation before the head (<c>embed</c>).</summary>
public enum ScoreOutput { Metrics, Probabilities, Embeddings }
