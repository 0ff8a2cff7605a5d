using ActorTraining.Compute.Compression;
using ActorTraining.Compute.Model;
using TorchSharp;
using static TorchSharp.torch;
using Phase = ActorTraining.Compute.Compression.Compression;

namespace ActorTraining.Compute.Tests.Compression;

public class CompressionTests
{
    public static TheoryData<CompressionMethod, int, int> MethodFactorStride()
    {
        var data = new TheoryData<CompressionMethod, int, int>();
        foreach (var method in Enum.GetValues<CompressionMethod>())
            foreach (var factor in new[] { 1, 2, 4 })
                foreach (var stride in new[] { 10, 16 })
                    data.Add(method, factor, stride);
        return data;
    }

    // Token grid for the AudioSet geometry (1024 frames × 128 mel), computed by hand:
    // stride 10: f_dim 12; t_dim C=1 (1024−16)/10+1 = 101; fshift/pool C=2 (512−16)/10+1 = 50,
    //   C=4 (256−16)/10+1 = 25; patch C=2 (1024−32)/20+1 = 50, C=4 (1024−64)/40+1 = 25.
    // stride 16: f_dim 8; t_dim C=1 64; fshift/pool C=2 (512−16)/16+1 = 32, C=4 16; patch C=2 (1024−32)/32+1 = 32, C=4 16.
    [Theory]
    [InlineData(CompressionMethod.FShift, 1, 10, 1212)]
    [InlineData(CompressionMethod.FShift, 2, 10, 600)]
    [InlineData(CompressionMethod.FShift, 4, 10, 300)]
    [InlineData(CompressionMethod.Pool, 2, 10, 600)]
    [InlineData(CompressionMethod.Pool, 4, 10, 300)]
    [InlineData(CompressionMethod.Patch, 1, 10, 1212)]
    [InlineData(CompressionMethod.Patch, 2, 10, 600)]
    [InlineData(CompressionMethod.Patch, 4, 10, 300)]
    [InlineData(CompressionMethod.FShift, 2, 16, 256)]
    [InlineData(CompressionMethod.Pool, 4, 16, 128)]
    [InlineData(CompressionMethod.Patch, 1, 16, 512)]
    [InlineData(CompressionMethod.Patch, 2, 16, 256)]
    [InlineData(CompressionMethod.Patch, 4, 16, 128)]
    public void AudioSetTokenCounts(CompressionMethod method, int factor, int stride, int patches)
    {
        var fine = AstConfig.Base(527) with { FStride = stride, TStride = stride };
        Assert.Equal(patches, new Phase(method, factor).ModelConfig(fine).NumPatches);
    }

    [Theory]
    [MemberData(nameof(MethodFactorStride))]
    public void EveryMethodFactorAndStrideRunsWithTheExpectedShapes(CompressionMethod method, int factor, int stride)
    {
        using var scope = NewDisposeScope();
        const int frames = 512;
        var phase = new Phase(method, factor);
        var fine = new AstConfig(64, 1, 2, 3, MelBins: 128, TargetLength: frames, FStride: stride, TStride: stride);
        var config = phase.ModelConfig(fine).Ast!;

        // What the front end hands over: fshift computes fewer frames itself, pool pools the 10 ms fbank.
        var fbank = randn(2, method == CompressionMethod.FShift ? frames / factor : frames, 128);
        var input = phase.ApplyToFbank(fbank);
        Assert.Equal(new long[] { 2, phase.TargetLength(frames), 128 }, input.shape);
        Assert.Equal(config.TargetLength, input.shape[1]);

        int expectedTDim = method == CompressionMethod.Patch
            ? (frames - 16 * factor) / (stride * factor) + 1
            : (frames / factor - 16) / stride + 1;
        Assert.Equal(expectedTDim, config.TDim);
        Assert.Equal((128 - 16) / stride + 1, config.FDim);
        Assert.Equal(method == CompressionMethod.Patch ? 16 * factor : 16, config.PatchT);

        using var model = new AstModel(config);
        Assert.Equal(new long[] { 1, config.FDim * expectedTDim + 2, 64 }, model.state_dict()["v.pos_embed"].shape);
        Assert.Equal(new long[] { 2, 3 }, model.forward(input).shape);
    }

    [Fact]
    public void FrontEndParametersFollowTheMethod()
    {
        Assert.Equal(40, new Phase(CompressionMethod.FShift, 4).FrameShiftMs());
        Assert.Equal(10, new Phase(CompressionMethod.Pool, 4).FrameShiftMs());
        Assert.Equal(10, new Phase(CompressionMethod.Patch, 4).FrameShiftMs());
        Assert.Equal(256, new Phase(CompressionMethod.FShift, 4).TargetLength(1024));
        Assert.Equal(341, new Phase(CompressionMethod.Pool, 3).TargetLength(1024)); // floor
        Assert.Equal(1024, new Phase(CompressionMethod.Patch, 4).TargetLength(1024));
        Assert.Equal(48, new Phase(CompressionMethod.FShift, 4).TimeMask(192));
        Assert.Equal(192, new Phase(CompressionMethod.Patch, 4).TimeMask(192));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Phase(CompressionMethod.Pool, 0));
        var tooCoarse = Assert.Throws<ArgumentException>(() => new Phase(CompressionMethod.Patch, 64).ModelConfig(new AstConfig(64, 1, 2, 3, TargetLength: 512)));
        Assert.Contains("PatchT", tooCoarse.Message);
    }

    [Fact]
    public void PoolingTakesMaxOrMeanOverTimeOnly()
    {
        using var scope = NewDisposeScope();
        // [T = 5, F = 2]: frames 0..4, second bin negated. C = 2 drops the trailing frame.
        var fbank = tensor(new float[] { 0, 0, 1, -1, 2, -2, 3, -3, 4, -4 }).reshape(5, 2);
        var max = new Phase(CompressionMethod.Pool, 2, PoolingKind.Max).ApplyToFbank(fbank);
        var avg = new Phase(CompressionMethod.Pool, 2, PoolingKind.Avg).ApplyToFbank(fbank);
        Assert.Equal(new float[] { 1, 0, 3, -2 }, max.data<float>().ToArray());
        Assert.Equal(new float[] { 0.5f, -0.5f, 2.5f, -2.5f }, avg.data<float>().ToArray());

        var batch = stack(new[] { fbank, fbank * 10 });
        var pooledBatch = new Phase(CompressionMethod.Pool, 2, PoolingKind.Max).ApplyToFbank(batch);
        Assert.Equal(new long[] { 2, 2, 2 }, pooledBatch.shape);
        Assert.Equal(new float[] { 10, 0, 30, -20 }, pooledBatch[1].data<float>().ToArray());

        Assert.Same(fbank, new Phase(CompressionMethod.Patch, 4).ApplyToFbank(fbank));
    }

    [Fact]
    public void AClipOfFewerFramesThanTheFactorPoolsWhatItHasIntoOneFrame()
    {
        using var scope = NewDisposeScope();
        var fbank = tensor(new float[] { 1, -1, 3, -5, 2, -2 }).reshape(3, 2); // 3 frames at C = 4
        Assert.Equal(new float[] { 3, -1 }, new Phase(CompressionMethod.Pool, 4, PoolingKind.Max).ApplyToFbank(fbank).data<float>().ToArray());
        Assert.Equal(new float[] { 2, -8f / 3 }, new Phase(CompressionMethod.Pool, 4, PoolingKind.Avg).ApplyToFbank(fbank).data<float>().ToArray());
        Assert.Throws<ArgumentException>(() => new Phase(CompressionMethod.Pool, 2).ApplyToFbank(zeros(0, 2)));
    }
}
