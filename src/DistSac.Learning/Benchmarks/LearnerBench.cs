using System.Globalization;
using DistSac.Learning.Training;

namespace DistSac.Learning.Benchmarks;

/// <summary>`bench learner` settings: device (auto, cpu or cuda), Torch threads (0 = all cores) and the timed duration.</summary>
public sealed record LearnerBenchSettings(string Device, int Threads, TimeSpan Duration);

/// <summary>
/// `distsac bench learner`: resolves the device and threads as the learner role does, runs <see cref="LearnerBenchmark"/>,
/// and reports it as one JSON line (docs/benchmarks.md and bench/*.sh read its field names).
/// </summary>
public sealed record LearnerBenchReport(LearnerBenchmarkResult Result, int Threads, bool ConcurrentStreams)
{
    public static LearnerBenchReport Run(LearnerBenchSettings settings)
    {
        var device = TorchRuntime.ResolveDevice(settings.Device);
        var (n, concurrent) = TorchRuntime.ConfigureThreads(settings.Threads, device);
        return new LearnerBenchReport(LearnerBenchmark.Run(device, n, settings.Duration, concurrentStreams: concurrent), n, concurrent);
    }

    public string ToJson()
    {
        var r = Result;
        return MetricsWriter.Serialize(new
        {
            Benchmark = "learner", Value = Math.Round(r.UpdatesPerSecond, 1), Unit = "updates/s",
            r.Device, Threads, ConcurrentStreams, Cores = Environment.ProcessorCount, r.BatchSize, r.Hidden, r.Updates, Seconds = Math.Round(r.Seconds, 2),
            NominalGflopPerUpdate = LearnerBenchmark.NominalGflopPerUpdate, CountedGflopPerUpdate = Math.Round(r.GflopPerUpdate, 3), MatmulPeakGflops = Math.Round(r.MatmulPeakGflops, 1), Efficiency = Math.Round(r.Efficiency, 3),
            Date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        });
    }
}
