using ActorTraining.Compute.Runtime;
using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Tests.Runtime;

public sealed class RankDeviceTests
{
    static readonly RankDevice[] CpuOnly = [RankDevice.Cpu];
    static readonly RankDevice[] TwoGpus = [RankDevice.Cpu, new("cuda:0"), new("cuda:1")];

    [Fact]
    public void AutoTakesEveryGpuElseTheCpu()
    {
        Assert.Equal([RankDevice.Cpu], RankDevice.Resolve(["auto"], CpuOnly));
        Assert.Equal([new RankDevice("cuda:0"), new RankDevice("cuda:1")], RankDevice.Resolve(["auto"], TwoGpus));
    }

    [Fact]
    public void ListsAreTakenAsWrittenAndCpuMayRepeat()
    {
        Assert.Equal([RankDevice.Cpu, RankDevice.Cpu], RankDevice.Resolve(["cpu", "CPU"], CpuOnly));
        Assert.Equal([new RankDevice("cuda:1"), new RankDevice("cuda:0")], RankDevice.Resolve(["cuda:1", "cuda"], TwoGpus));
    }

    [Fact]
    public void AMissingDeviceNamesItAndWhatIsThere()
    {
        var e = Assert.Throws<ConfigException>(() => RankDevice.Resolve(["cuda:2"], TwoGpus));
        Assert.Equal("training.devices: device 'cuda:2' is not here (this process sees cpu, cuda:0, cuda:1)", e.Message);
        e = Assert.Throws<ConfigException>(() => RankDevice.Resolve(["cuda:0"], CpuOnly));
        Assert.Contains("a GPU needs the CUDA build", e.Message);
    }

    [Theory]
    [InlineData("tpu")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("")]
    public void WhatIsNotADeviceIsNamed(string name)
    {
        var e = Assert.Throws<ConfigException>(() => RankDevice.Resolve([name], TwoGpus));
        Assert.Contains($"'{name}' is not a device", e.Message);
    }

    [Fact]
    public void OneRankPerGpu() =>
        Assert.Contains("listed twice", Assert.Throws<ConfigException>(() => RankDevice.Resolve(["cuda:0", "cuda:0"], TwoGpus)).Message);

    [Fact]
    public void ThisMachineHasItsCpuAndTensorsLandOnTheRankDevice()
    {
        Assert.Contains(RankDevice.Cpu, RankDevice.Available());
        using var t = RankDevice.Cpu.Tensor([1f, 2f, 3f, 4f], [2, 2]);
        Assert.Equal(TorchSharp.DeviceType.CPU, t.device_type);
        Assert.Equal([2L, 2L], t.shape);
    }
}
