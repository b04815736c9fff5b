using System.Diagnostics;
using DistSac.Processes;
using DistSac.Replay;
using static DistSac.Bench.BenchOutput;

namespace DistSac.Bench;

/// <summary>
/// `bench sample` settings. <paramref name="LearnerSeconds"/> &lt;= 0 skips the `bench learner` run whose update rate the
/// sampling CPU share is taken at; <paramref name="LearnerThreads"/> 0 = all cores.
/// </summary>
public sealed record SampleSettings(int Shards, long Fill, int Concurrency, TimeSpan Duration, TimeSpan WarmUp, double LearnerSeconds, int LearnerThreads);

/// <summary>The learner's mirror: one full refill from Redis, then batches drawn on one thread.</summary>
public readonly record struct MirrorResult(double RefillRecordsPerS, CpuUse Refill, double BatchesPerS, double CpuPerBatch, long Bytes);

/// <summary>`bench sample` figures: direct, through the prefetcher and from the mirror; the learner rate when it was run.</summary>
public sealed record SampleResult(SampleSettings Settings, double Direct, CpuUse DirectCpu, double Prefetched, CpuUse PrefetchCpu, MirrorResult Mirror, LearnerRate? Learner)
{
    public string ToJson()
    {
        bool prefetcherBetter = Prefetched > Direct;
        double redisCpuPerBatch = prefetcherBetter ? PrefetchCpu.Process / Prefetched : DirectCpu.Process / Direct;
        return Serialize(new
        {
            Benchmark = "sample", Value = Math.Round(Math.Max(Direct, Prefetched), 1), Unit = "batches/s",
            Best = prefetcherBetter ? "prefetcher" : "direct", DirectBatchesPerS = Math.Round(Direct, 1), PrefetcherBatchesPerS = Math.Round(Prefetched, 1),
            TransitionsPerS = Math.Round(Math.Max(Direct, Prefetched) * SampleBenchmark.Batch), BatchSize = SampleBenchmark.Batch, Settings.Shards, Settings.Fill, Settings.Concurrency,
            Seconds = Settings.Duration.TotalSeconds, ProcessCpuCores = Round(prefetcherBetter ? PrefetchCpu.Process : DirectCpu.Process),
            RedisCpuCores = Round(prefetcherBetter ? PrefetchCpu.Redis : DirectCpu.Redis),
            RedisPathCpuUsPerBatch = Round(redisCpuPerBatch * 1e6),
            MirrorBatchesPerS = Math.Round(Mirror.BatchesPerS, 1), MirrorCpuUsPerBatch = Round(Mirror.CpuPerBatch * 1e6),
            MirrorRefillRecordsPerS = Math.Round(Mirror.RefillRecordsPerS), MirrorRefillProcessCpuCores = Round(Mirror.Refill.Process),
            MirrorRefillRedisCpuCores = Round(Mirror.Refill.Redis), MirrorAllocatedMib = Math.Round(Mirror.Bytes / (1024.0 * 1024.0), 1),
            LearnerUpdatesPerS = Learner is null ? (double?)null : Math.Round(Learner.Value.UpdatesPerS, 1),
            LearnerThreads = Learner?.Threads,
            // CPU seconds per batch x one batch per update at bench learner's rate = cores spent sampling; as a share of
            // one core it bounds the share of the learner's CPU (the learner uses at least one core).
            MirrorSamplingCoresAtLearnerRate = Learner is null ? null : Round4(Mirror.CpuPerBatch * Learner.Value.UpdatesPerS),
            RedisSamplingCoresAtLearnerRate = Learner is null ? null : Round4(redisCpuPerBatch * Learner.Value.UpdatesPerS),
            Cores = Environment.ProcessorCount, Date = Today(),
        });
    }
}

/// <summary>
/// Batches of <see cref="Batch"/> per second from S shards: from Redis (direct and through the prefetcher) and from the
/// learner's mirror, with the client CPU per batch, the mirror's refill rate and, given a learner probe, the learner
/// CPU share spent sampling at `bench learner`'s update rate.
/// </summary>
public static class SampleBenchmark
{
    public const int Batch = 256;

    public static async Task<SampleResult> RunAsync(SampleSettings settings, LearnerRateProbe learnerProbe, CancellationToken ct)
    {
        int s = settings.Shards, c = settings.Concurrency;
        long n = settings.Fill;
        var warm = settings.WarmUp;
        await using var redis = new RedisLauncher();
        var servers = await redis.StartAsync(s, ct);
        // Capacity holds the whole fill, so every sampled slot is one of the records just stored.
        await using var replay = await BenchRun.CreateAsync("bench-sample", servers, Math.Max(1_000_000, (n + s - 1) / s), ct);
        Say($"sample: filling {n} records over {s} shard(s)");
        await ReplayBenchmarks.FillAsync(replay, n, ct);
        if (warm > TimeSpan.Zero) await ReplayBenchmarks.SampleBatchesPerSecondAsync(replay, Batch, warm, c, ct);

        var meter = CpuMeter.Start(servers);
        double direct = await ReplayBenchmarks.SampleBatchesPerSecondAsync(replay, Batch, settings.Duration, c, ct);
        var directCpu = meter.Stop();
        var (prefetched, prefetchCpu) = await PrefetchedBatchesPerSecondAsync(replay, servers, c, warm, settings.Duration, ct);
        Say("sample: the learner's mirror (one full refill, then sampling on one thread)");
        var mirror = await MirrorAsync(replay, servers, warm, settings.Duration, ct);
        LearnerRate? learner = null;
        if (settings.LearnerSeconds > 0)
            learner = learnerProbe(settings.LearnerThreads, TimeSpan.FromSeconds(settings.LearnerSeconds));
        return new SampleResult(settings, direct, directCpu, prefetched, prefetchCpu, mirror, learner);
    }

    /// <summary>A learner-like consumer taking ready batches from a prefetcher with <paramref name="loops"/> sampling loops.</summary>
    private static async Task<(double PerSecond, CpuUse Cpu)> PrefetchedBatchesPerSecondAsync(
        ShardedReplay replay, IReadOnlyList<RedisLauncher.Server> servers, int loops, TimeSpan warm, TimeSpan duration, CancellationToken ct)
    {
        await using var prefetcher = new ReplayPrefetcher(replay, Batch, depth: 2 * loops, seed: 1, logger: null, parallelism: loops);
        // The warm-up also fills the ready queue, so the timed window starts in steady state (bias: depth / duration).
        for (long w = Stopwatch.GetTimestamp(); Stopwatch.GetElapsedTime(w) < warm;) prefetcher.Return(await prefetcher.NextAsync(ct));
        var meter = CpuMeter.Start(servers);
        long batches = 0, started = Stopwatch.GetTimestamp();
        for (; Stopwatch.GetElapsedTime(started) < duration; batches++) prefetcher.Return(await prefetcher.NextAsync(ct));
        double perSecond = batches / Stopwatch.GetElapsedTime(started).TotalSeconds;
        return (perSecond, meter.Stop());
    }

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

        await using var source = new MirrorBatchSource(mirror, Batch, seed: 1);
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
}
