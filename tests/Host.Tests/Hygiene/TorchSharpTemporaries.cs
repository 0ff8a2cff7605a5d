namespace ActorTraining.Host.Tests.Hygiene;

/// <summary>
/// The TorchSharp members that build a temporary <c>Scalar</c> and let it go while libtorch may still read it
/// (dotnet/TorchSharp#1434): found in TorchSharp's own IL, not listed by hand. A method <em>creates</em> one when it
/// calls a Scalar factory (the implicit conversion, <c>ToScalar</c>, or any method returning a Scalar) without
/// returning a Scalar itself (then its caller owns it) and without disposing one (then it holds it for the call);
/// <c>Tensor.add(Tensor)</c> is <c>add(target, 1)</c> and creates one. Every method that calls a creating method,
/// directly or through others, is as unsafe: <c>Tensor + Tensor</c> calls <c>add(Tensor)</c>.
/// </summary>
public static class TorchSharpTemporaries
{
    const string ScalarType = "TorchSharp.Scalar";

    static readonly Lazy<IReadOnlyDictionary<string, string>> Found = new(Analyse);
    static readonly Lazy<IReadOnlyDictionary<string, string?>> Bases = new(() =>
    {
        using var scan = new IlScan(typeof(TorchSharp.torch).Assembly.Location);
        return scan.BaseTypes();
    });

    /// <summary>Key (as <see cref="IlScan"/> names methods) of every unsafe TorchSharp member → the chain down to the creating one.</summary>
    public static IReadOnlyDictionary<string, string> Members => Found.Value;

    /// <summary>
    /// Why a call is unsafe, or null. A virtual call (<c>optimizer.step()</c> on <c>Optimizer</c>) is unsafe when the
    /// member or any TorchSharp override of it in a type derived from the call's type is (<c>Adam.step</c>).
    /// </summary>
    public static string? WhyUnsafe(IlScan.Call call)
    {
        if (Members.TryGetValue(call.Key, out var why)) return why;
        if (!call.Virtual) return null;
        var (type, member) = IlScan.Split(call.Key);
        foreach (var (key, reason) in Members)
        {
            var (overrider, overridden) = IlScan.Split(key);
            if (overridden == member && DerivesFrom(overrider, type)) return $"may dispatch to {Short(key)}, which {reason}";
        }
        return null;
    }

    static bool DerivesFrom(string type, string ancestor)
    {
        for (string? t = type; t is not null; t = Bases.Value.TryGetValue(t, out var b) ? b : null)
            if (t == ancestor) return true;
        return false;
    }

    static IReadOnlyDictionary<string, string> Analyse()
    {
        using var scan = new IlScan(typeof(TorchSharp.torch).Assembly.Location);
        var methods = scan.Methods().GroupBy(m => m.Key).ToDictionary(g => g.Key, g => g.First());
        var factories = methods.Values.Where(m => m.ReturnType == ScalarType).Select(m => m.Key).ToHashSet();
        var unsafeMembers = new Dictionary<string, string>();
        foreach (var m in methods.Values)
        {
            if (m.ReturnType == ScalarType || m.Calls.Any(c => c.Key.StartsWith(ScalarType + "::Dispose(", StringComparison.Ordinal))) continue;
            if (m.Calls.FirstOrDefault(c => factories.Contains(c.Key)) is { } made) unsafeMembers[m.Key] = $"creates {Short(made.Key)}";
        }
        // callers of unsafe members, to a fixed point
        for (bool grew = true; grew;)
        {
            grew = false;
            foreach (var m in methods.Values)
            {
                if (unsafeMembers.ContainsKey(m.Key)) continue;
                if (m.Calls.FirstOrDefault(c => unsafeMembers.ContainsKey(c.Key)) is { } via)
                {
                    unsafeMembers[m.Key] = $"calls {Short(via.Key)}, which {unsafeMembers[via.Key]}";
                    grew = true;
                }
            }
        }
        return unsafeMembers;
    }

    static string Short(string key) => key.Replace("TorchSharp.", "").Replace("System.", "");
}
