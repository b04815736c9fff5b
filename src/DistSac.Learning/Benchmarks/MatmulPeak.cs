using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace DistSac.Learning.Benchmarks;

/// <summary>TorchSharp's own dense matmul rate on this machine: the ceiling the learner's efficiency is judged against.</summary>
public static class MatmulPeak
{
    /// <summary>GFLOP/s of an n x n float32 matmul (2 n^3 FLOP each), best of a few timed rounds after a warm-up.</summary>
    public static double MeasureGflops(Device device, int n = 2048, int rounds = 5, int matmulsPerRound = 4)
    {
        using var scope = NewDisposeScope();
        var a = randn(n, n, device: device);
        var b = randn(n, n, device: device);
        torch.matmul(a, b).Dispose();
        Synchronize(device);
        double best = 0;
        for (int r = 0; r < rounds; r++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < matmulsPerRound; i++) a.mm(b).Dispose();
            Synchronize(device);
            var seconds = sw.Elapsed.TotalSeconds;
            best = Math.Max(best, matmulsPerRound * 2.0 * n * n * (double)n / seconds / 1e9);
        }
        return best;
    }

    public static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize();
    }
}
