namespace ActorTraining.Compute.Model;

/// <summary>The architectures a run can train.</summary>
public enum ModelArchitecture { Ast, Htsat }

/// <summary>
/// The model a run (or one phase of it) trains: an AST (<paramref name="Ast"/>, a flat ViT over the patches) or an
/// HTS-AT (<paramref name="Htsat"/>, Swin stages over the folded spectrogram) — exactly one is set. What the rest of the
/// system asks of a model's geometry, whatever the architecture, is here; what only one has stays in its own config.
/// <paramref name="Pretext"/>: the AST is SSAST's pretraining model (<see cref="SsastModel"/>: the pretext heads and the
/// mask embedding instead of the classifier) with the masking it trains on, whose weights a supervised run later starts from.
/// </summary>
public sealed record ModelGeometry(AstConfig? Ast, HtsatConfig? Htsat, SsastPretext? Pretext = null)
{
    public bool Pretraining => Pretext is not null;

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

    /// <summary>"AST", "SSAST" (its pretraining model) or "HTS-AT", as people write them.</summary>
    public string Name => Architecture == ModelArchitecture.Htsat ? "HTS-AT" : Pretraining ? "SSAST" : "AST";

    public ModelGeometry Validate()
    {
        if ((Ast is null) == (Htsat is null)) throw new ArgumentException("a model geometry is either an AST's or an HTS-AT's");
        if (Pretraining && Ast is null) throw new ArgumentException("SSAST pretraining is for AST models");
        Ast?.Validate();
        Htsat?.Validate();
        return this;
    }

    public override string ToString() => Htsat?.ToString() ?? (Pretext is { } p
        ? $"SSAST pretraining {Ast!.Describe(classes: false)}, {p.MaskCount(Ast):N0} of {Ast.NumPatches:N0} patches masked"
        : Ast!.ToString());
}
