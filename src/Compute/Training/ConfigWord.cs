using System.Reflection;
using System.Text.Json.Serialization;

namespace ActorTraining.Compute.Training;

/// <summary>
/// An enum of the configuration as its files spell it: each value's word is its <see cref="JsonStringEnumMemberNameAttribute"/>,
/// which experiment.json and the run identity write too. The loader reads a word once, here; nothing else compares words.
/// </summary>
public static class ConfigWord
{
    public static IReadOnlyList<string> Words<T>() where T : struct, Enum => Enum.GetValues<T>().Select(Of).ToList();

    public static string Of<T>(T value) where T : struct, Enum =>
        typeof(T).GetField(value.ToString())!.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? value.ToString();

    /// <summary>The value <paramref name="word"/> names; a <see cref="ConfigException"/> naming <paramref name="key"/> and the words otherwise.</summary>
    public static T Parse<T>(string key, string word) where T : struct, Enum =>
        Enum.GetValues<T>().Where(v => Of(v) == word).Select(v => (T?)v).FirstOrDefault()
            ?? throw new ConfigException(key, $"must be {string.Join(", ", Words<T>().SkipLast(1))} or {Words<T>()[^1]}, got '{word}'");
}
