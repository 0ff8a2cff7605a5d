using System.Runtime.Intrinsics;
using ActorTraining.Compute.Features;

namespace ActorTraining.Compute.Tests.Features;

/// <summary>
/// The fbank's FFT against a plain O(N²) DFT in double, at every size an fbank can ask for (the 16 kHz AST front end
/// only uses 512, so the parity fixtures do not reach the other sizes): both stage orders (N/2 an even or odd power
/// of two), four different frames in the four lanes.
/// </summary>
public sealed class LaneRealFftTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(256)]
    [InlineData(512)]
    [InlineData(1024)]
    [InlineData(2048)]
    public void PowerSpectrumEqualsAPlainDft(int n)
    {
        const int lanes = 4;
        var random = new Random(n);
        var frames = new double[lanes][];
        for (int lane = 0; lane < lanes; lane++)
            frames[lane] = Enumerable.Range(0, n).Select(i => lane switch
            {
                0 => random.NextDouble() - 0.5,                               // noise
                1 => Math.Sin(2 * Math.PI * 3.3 * i / n),                     // a tone between bins
                2 => i == n / 3 ? 1.0 : 0.0,                                  // an impulse
                _ => 1e-4 * (random.NextDouble() - 0.5) + Math.Cos(Math.PI * i), // Nyquist tone over quiet noise
            }).ToArray();
        var signal = Enumerable.Range(0, n).Select(i => Vector256.Create(frames[0][i], frames[1][i], frames[2][i], frames[3][i])).ToArray();
        var power = new Vector256<double>[n / 2];
        new LaneRealFft(n).PowerSpectrum(signal, new Vector256<double>[n / 2], new Vector256<double>[n / 2], power);

        for (int lane = 0; lane < lanes; lane++)
        {
            double energy = frames[lane].Sum(x => x * x);
            for (int k = 0; k < n / 2; k++)
            {
                double re = 0, im = 0;
                for (int i = 0; i < n; i++)
                {
                    double angle = -2 * Math.PI * ((long)k * i % n) / n;
                    re += frames[lane][i] * Math.Cos(angle);
                    im += frames[lane][i] * Math.Sin(angle);
                }
                double expected = re * re + im * im, actual = power[k][lane];
                // Rounding of an FFT is relative to the frame's energy (Parseval: Σ|X|² = N·Σx²).
                Assert.True(Math.Abs(actual - expected) <= 1e-12 * n * energy,
                    $"N {n}, lane {lane}, bin {k}: |X|² {actual} against the DFT's {expected}");
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(384)]
    public void ASizeThatIsNotAPowerOfTwoIsRefused(int n) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new LaneRealFft(n));
}
