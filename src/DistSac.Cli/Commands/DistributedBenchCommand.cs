using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DistSac.Cli.Local;
using DistSac.Envs;
using DistSac.Protocol;
using DistSac.Replay;

namespace DistSac.Cli.Commands;

/// <summary>
/// `distsac bench sample|ingest|e2e`: the replay, gateway and whole-system benchmarks. Each starts its own redis-server(s)
/// (stopped at the end, also on errors and Ctrl-C) and prints one JSON line; progress and child output go to stderr.
/// </summary>
public static partial class DistributedBenchCommand
{
    private const int SampleBatch = 256;
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static IEnumerable<Command> Create() => [Sample(), Ingest(), EndToEnd(), Scale(), GatewayIdle(), LocalVsLearner()];

    private static Command Sample()
    {
        var shards = Opt("--shards", 1, "redis-server shards (S).");
        var seconds = Opt("--seconds", 10.0, "Timed duration of each of the three sampling measurements.");
        var fill = Opt("--fill", 200_000L, "Random Pendulum records stored first (spread over the shards).");
        var concurrency = Opt("--concurrency", 16, "Concurrent SampleAsync callers, and the prefetcher's sampling loops.");
        var warmUp = Opt("--warm-up-seconds", 1.0, "Untimed sampling first, so the JIT reaches optimised code.");
        var learnerSeconds = Opt("--learner-seconds", 10.0, "Duration of the `bench learner` run whose update rate the sampling CPU share is taken at (0 skips it).");
        var learnerThreads = Opt("--learner-threads", 0, "Torch threads of that learner run (0 = all cores).");
        var command = new Command("sample",
            $"Batches of {SampleBatch} per second from S shards: from Redis (direct and through the prefetcher) and from the learner's mirror, " +
            "with the client CPU per batch, the mirror's refill rate and the learner CPU share spent sampling at `bench learner`'s update rate.")
            { shards, seconds, fill, concurrency, warmUp, learnerSeconds, learnerThreads };
        command.SetAction(async (parse, ct) =>
        {
            int s = Positive(parse.GetValue(shards), "--shards"), c = Positive(parse.GetValue(concurrency), "--concurrency");
            long n = Positive(parse.GetValue(fill), "--fill");
            var duration = Seconds(parse.GetValue(seconds), "--seconds");
            var warm = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(warmUp)));
            await using var redis = new RedisLauncher();
            var servers = await redis.StartAsync(s, ct);
            // Capacity holds the whole fill, so every sampled slot is one of the records just stored.
            await using var replay = await CreateRunAsync("bench-sample", servers, Math.Max(1_000_000, (n + s - 1) / s), ct);
            Say($"sample: filling {n} records over {s} shard(s)");
            await ReplayBenchmarks.FillAsync(replay, n, ct);
            if (warm > TimeSpan.Zero) await ReplayBenchmarks.SampleBatchesPerSecondAsync(replay, SampleBatch, warm, c, ct);

            var meter = CpuMeter.Start(servers);
            double direct = await ReplayBenchmarks.SampleBatchesPerSecondAsync(replay, SampleBatch, duration, c, ct);
            var directCpu = meter.Stop();
            var (prefetched, prefetchCpu) = await PrefetchedBatchesPerSecondAsync(replay, servers, c, warm, duration, ct);
            bool prefetcherBetter = prefetched > direct;
            Say("sample: the learner's mirror (one full refill, then sampling on one thread)");
            var mirror = await MirrorAsync(replay, servers, warm, duration, ct);
            var learner = LearnerRate(parse.GetValue(learnerSeconds), parse.GetValue(learnerThreads));
            double redisCpuPerBatch = (prefetcherBetter ? prefetchCpu.Process / prefetched : directCpu.Process / direct);
            Print(new
            {
                Benchmark = "sample", Value = Math.Round(Math.Max(direct, prefetched), 1), Unit = "batches/s",
                Best = prefetcherBetter ? "prefetcher" : "direct", DirectBatchesPerS = Math.Round(direct, 1), PrefetcherBatchesPerS = Math.Round(prefetched, 1),
                TransitionsPerS = Math.Round(Math.Max(direct, prefetched) * SampleBatch), BatchSize = SampleBatch, Shards = s, Fill = n, Concurrency = c,
                Seconds = duration.TotalSeconds, ProcessCpuCores = Round(prefetcherBetter ? prefetchCpu.Process : directCpu.Process),
                RedisCpuCores = Round(prefetcherBetter ? prefetchCpu.Redis : directCpu.Redis),
                RedisPathCpuUsPerBatch = Round(redisCpuPerBatch * 1e6),
                MirrorBatchesPerS = Math.Round(mirror.BatchesPerS, 1), MirrorCpuUsPerBatch = Round(mirror.CpuPerBatch * 1e6),
                MirrorRefillRecordsPerS = Math.Round(mirror.RefillRecordsPerS), MirrorRefillProcessCpuCores = Round(mirror.Refill.Process),
                MirrorRefillRedisCpuCores = Round(mirror.Refill.Redis), MirrorAllocatedMib = Math.Round(mirror.Bytes / (1024.0 * 1024.0), 1),
                LearnerUpdatesPerS = learner is null ? (double?)null : Math.Round(learner.Value.UpdatesPerS, 1),
                LearnerThreads = learner?.Threads,
                // CPU seconds per batch x one batch per update at bench learner's rate = cores spent sampling; as a share of
                // one core it bounds the share of the learner's CPU (the learner uses at least one core).
                MirrorSamplingCoresAtLearnerRate = learner is null ? null : Round4(mirror.CpuPerBatch * learner.Value.UpdatesPerS),
                RedisSamplingCoresAtLearnerRate = learner is null ? null : Round4(redisCpuPerBatch * learner.Value.UpdatesPerS),
                Cores = Environment.ProcessorCount, Date = Today(),
            });
            return 0;
        });
        return command;
    }

    /// <summary>A learner-like consumer taking ready batches from a prefetcher with <paramref name="loops"/> sampling loops.</summary>
    private static async Task<(double PerSecond, CpuUse Cpu)> PrefetchedBatchesPerSecondAsync(
        ShardedReplay replay, IReadOnlyList<RedisLauncher.Server> servers, int loops, TimeSpan warm, TimeSpan duration, CancellationToken ct)
    {
        await using var prefetcher = new ReplayPrefetcher(replay, SampleBatch, depth: 2 * loops, seed: 1, logger: null, parallelism: loops);
        // The warm-up also fills the ready queue, so the timed window starts in steady state (bias: depth / duration).
        for (long w = Stopwatch.GetTimestamp(); Stopwatch.GetElapsedTime(w) < warm;) prefetcher.Return(await prefetcher.NextAsync(ct));
        var meter = CpuMeter.Start(servers);
        long batches = 0, started = Stopwatch.GetTimestamp();
        for (; Stopwatch.GetElapsedTime(started) < duration; batches++) prefetcher.Return(await prefetcher.NextAsync(ct));
        double perSecond = batches / Stopwatch.GetElapsedTime(started).TotalSeconds;
        return (perSecond, meter.Stop());
    }

    private static async Task<ShardedReplay> CreateRunAsync(string prefix, IReadOnlyList<RedisLauncher.Server> servers, long capacity, CancellationToken ct)
    {
        var spec = EnvironmentRegistry.GetSpec("Pendulum-v1");
        var options = new ReplayOptions { RunId = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)], Shards = [.. servers.Select(x => x.Endpoint)], CapacityPerShard = capacity };
        var replay = await ShardedReplay.ConnectAsync(options, logger: null, ct);
        try
        {
            await replay.InitializeRunAsync(new ReplayMetadata(options.RunId, spec.Id, spec.ObservationSize, spec.ActionSize,
                ProtocolLimits.RecordBytes(spec.ObservationSize, spec.ActionSize), Seed: 0, WarmupTransitions: 0, capacity, servers.Count,
                ReplayLimits.SchemaVersion), ct);
            return replay;
        }
        catch
        {
            await replay.DisposeAsync();
            throw;
        }
    }

    /// <summary>CPU used, in cores, by this process and by the redis-servers over a measurement.</summary>
    private readonly record struct CpuUse(double Process, double Redis);

    private sealed class CpuMeter
    {
        private readonly IReadOnlyList<RedisLauncher.Server> _servers;
        private readonly double _process0, _redis0;
        private readonly long _started = Stopwatch.GetTimestamp();

        private CpuMeter(IReadOnlyList<RedisLauncher.Server> servers)
        {
            _servers = servers;
            _process0 = ProcessCpu();
            _redis0 = RedisCpu();
        }

        public static CpuMeter Start(IReadOnlyList<RedisLauncher.Server> servers) => new(servers);

        public CpuUse Stop()
        {
            double wall = Stopwatch.GetElapsedTime(_started).TotalSeconds;
            return new CpuUse((ProcessCpu() - _process0) / wall, (RedisCpu() - _redis0) / wall);
        }

        private static double ProcessCpu()
        {
            using var self = Process.GetCurrentProcess();
            return self.TotalProcessorTime.TotalSeconds;
        }

        private double RedisCpu() => _servers.Sum(s => ProcessCpuTime.Seconds(s.Pid));
    }

    private static Option<T> Opt<T>(string name, T defaultValue, string description) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    private static T Positive<T>(T value, string flag) where T : System.Numerics.INumber<T> =>
        value >= T.One ? value : throw new ArgumentException($"{flag} must be >= 1 (got {value}).");

    private static TimeSpan Seconds(double value, string flag) =>
        double.IsFinite(value) && value > 0 ? TimeSpan.FromSeconds(value) : throw new ArgumentException($"{flag} must be > 0 (got {value}).");

    /// <summary>NaN (a CPU time that could not be read) becomes null: JSON has no NaN.</summary>
    private static double? Round(double value) => double.IsFinite(value) ? Math.Round(value, 2) : null;

    private static double? Round4(double value) => double.IsFinite(value) ? Math.Round(value, 4) : null;

    private static string Today() => DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static void Print(object line) => Console.Out.WriteLine(JsonSerializer.Serialize(line, Json));

    private static void Say(string line) => Console.Error.WriteLine($"[bench] {line}");
}
