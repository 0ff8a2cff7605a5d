namespace ActorTraining.Compute.Model;

/// <summary>The architectures a run can train.</summary>
public enum ModelArchitecture { Ast, Htsat }

/// <summary>
/// The model a run (or one phase of it) trains: an AST (<paramref name="Ast"/>, a flat ViT over the patches) or an
/// HTS-AT (<paramref name="Htsat"/>, Swin stages over the folded spectrogram) — exactly one is set. What the rest of the
/// system asks of a model's geometry, whatever the architecture, is here; what only one has stays in its own config.
/// </summary>
public sealed record ModelGeometry(AstConfig? Ast, HtsatConfig? Htsat)
{
    public static implicit operator ModelGeometry(AstConfig ast) => new(ast, null);

    public static implicit operator ModelGeometry(HtsatConfig htsat) => new(null, htsat);

    public ModelArchitecture Architecture => Htsat is null ? ModelArchitecture.Ast : ModelArchitecture.Htsat;

    public int NumClasses => Htsat?.NumClasses ?? Ast!.NumClasses;
    public int MelBins => Htsat?.MelBins ?? Ast!.MelBins;
    public int TargetLength => Htsat?.TargetLength ?? Ast!.TargetLength;

    /// <summary>Patches per clip the model's first layer makes (what a compressed phase reduces).</summary>
    public int NumPatches => Htsat?.NumPatches ?? Ast!.NumPatches;

    /// <summary>The AST geometry, or an error naming what needs one.</summary>
    public AstConfig AstOnly(string what) => Ast ?? throw new NotSupportedException($"{what} is for AST models; this one is {Name}");

    /// <summary>"AST" or "HTS-AT", as people write them.</summary>
    public string Name => Architecture == ModelArchitecture.Ast ? "AST" : "HTS-AT";

    public ModelGeometry Validate()
    {
        if ((Ast is null) == (Htsat is null)) throw new ArgumentException("a model geometry is either an AST's or an HTS-AT's");
        Ast?.Validate();
        Htsat?.Validate();
        return this;
    }

    public override string ToString() => Htsat?.ToString() ?? Ast!.ToString();
}
