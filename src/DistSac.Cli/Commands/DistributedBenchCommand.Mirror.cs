using System.Diagnostics;
using DistSac.Cli.Local;
using DistSac.Learning;
using DistSac.Learning.Benchmarks;
using DistSac.Replay;

namespace DistSac.Cli.Commands;

public static partial class DistributedBenchCommand
{
    private readonly record struct MirrorResult(double RefillRecordsPerS, CpuUse Refill, double BatchesPerS, double CpuPerBatch, long Bytes);

    /// <summary>
    /// The learner's mirror of the stored run: one full refill from Redis (records/s, CPU), then batches drawn on one
    /// thread as the learner's update loop draws them (batches/s and this process's CPU seconds per batch).
    /// </summary>
    private static async Task<MirrorResult> MirrorAsync(ShardedReplay replay, IReadOnlyList<RedisLauncher.Server> servers, TimeSpan warm, TimeSpan duration, CancellationToken ct)
    {
        var metadata = await replay.RequireMetadataAsync(ct);
        await using var mirror = new ReplayMirror(replay, metadata);
        var meter = CpuMeter.Start(servers);
        long started = Stopwatch.GetTimestamp();
        long records = await mirror.RefillAsync(ct);
        double refillSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var refillCpu = meter.Stop();

        await using var source = new MirrorBatchSource(mirror, SampleBatch, seed: 1);
        return await Task.Run(async () =>
        {
            for (long w = Stopwatch.GetTimestamp(); Stopwatch.GetElapsedTime(w) < warm;) source.Return(await source.NextAsync(ct));
            var sampling = CpuMeter.Start(servers);
            long batches = 0, t0 = Stopwatch.GetTimestamp();
            for (; Stopwatch.GetElapsedTime(t0) < duration; batches++) source.Return(await source.NextAsync(ct));
            double perSecond = batches / Stopwatch.GetElapsedTime(t0).TotalSeconds;
            var cpu = sampling.Stop();
            return new MirrorResult(records / refillSeconds, refillCpu, perSecond, cpu.Process / perSecond, mirror.AllocatedBytes);
        }, ct);
    }

    /// <summary>`bench learner` on the CPU in this process: its updates/s and threads. Null when skipped.</summary>
    private static (double UpdatesPerS, int Threads)? LearnerRate(double seconds, int threads)
    {
        if (!(seconds > 0)) return null;
        var device = TorchRuntime.ResolveDevice("cpu");
        var (n, concurrent) = TorchRuntime.ConfigureThreads(threads, device);
        Say($"sample: `bench learner --threads {n} --seconds {seconds}` for the update rate the sampling share is taken at");
        var r = LearnerBenchmark.Run(device, n, TimeSpan.FromSeconds(seconds), concurrentStreams: concurrent);
        return (r.UpdatesPerSecond, n);
    }
}
