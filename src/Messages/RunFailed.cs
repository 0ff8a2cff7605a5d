namespace ActorTraining.Messages;

/// <summary>The run stopped on an error the user must fix (bad config, bad data, corrupt checkpoint, full disk).</summary>
public sealed record RunFailed(string Reason) : IControlMessage;
