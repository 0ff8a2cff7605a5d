using ActorTraining.Compute.Model;

namespace ActorTraining.Compute.Tests.Model;

public class FlopCounterTests
{
    [Fact]
    public void SmallConfigurationMatchesHandCount()
    {
        // D 64, depth 2, 10 classes, 256 frames × 128 mel, 16×16 patches, stride 16:
        // f_dim = (128−16)/16+1 = 8, t_dim = (256−16)/16+1 = 16 → 128 patches, N = 130 tokens.
        // patch embed: 2·128·64·(16·16)          =      4,194,304
        // per block:   24·130·64² = 24·130·4096  =     12,779,520
        //              4·130²·64  = 4·16,900·64  =      4,326,400  → 17,105,920; × 2 blocks = 34,211,840
        // head:        2·64·10                   =          1,280
        // forward = 38,407,424; backward = 76,814,848
        var (forward, backward) = FlopCounter.PerSample(new AstConfig(64, 2, 2, 10, 128, 256, FStride: 16, TStride: 16));
        Assert.Equal(38_407_424d, forward);
        Assert.Equal(76_814_848d, backward);
    }

    [Fact]
    public void BaseAudioSetConfigurationMatchesHandCount()
    {
        // AST base: D 768, depth 12, 527 classes, 1024 × 128, stride 10: 12 × 101 = 1212 patches, N = 1214.
        // patch embed: 2·1212·768·256                          =        476,577,792
        // per block:   24·1214·768² = 24·1214·589,824          =     17,185,112,064
        //              4·1214²·768  = 4·1,473,796·768          =      4,527,501,312 → 21,712,613,376
        //              × 12 blocks                             =    260,551,360,512
        // head:        2·768·527                               =            809,472
        // forward = 261,028,747,776 (≈ 261 GFLOPs = 130.5 GMACs)
        var (forward, backward) = FlopCounter.PerSample(AstConfig.Base(527));
        Assert.Equal(261_028_747_776d, forward);
        Assert.Equal(2 * 261_028_747_776d, backward);
    }

    [Fact]
    public void CoarsePhasesCostLessThanHalfAndAQuarter()
    {
        // REFERENCE.md: a C = 2 phase costs ≈ 44–48 % and C = 4 ≈ 20–23 % of a full-resolution ViT-B phase.
        var fine = AstConfig.Base(527);
        double full = FlopCounter.PerSample(fine).Forward;
        double c2 = FlopCounter.PerSample(fine with { TargetLength = 512 }).Forward / full;
        double c4 = FlopCounter.PerSample(fine with { TargetLength = 256 }).Forward / full;
        Assert.InRange(c2, 0.44, 0.48);
        Assert.InRange(c4, 0.20, 0.23);
    }
}
