using System.Diagnostics;
using DistSac.Gateway;
using DistSac.Processes;
using DistSac.Replay;
using Google.Protobuf;
using static DistSac.Bench.BenchOutput;

namespace DistSac.Bench;

/// <summary>`bench ingest` settings: N clients, S shards, transitions per push, timed and warm-up durations.</summary>
public sealed record IngestSettings(int Clients, int Shards, int Batch, TimeSpan Duration, TimeSpan WarmUp);

/// <summary>`bench ingest` figures; <see cref="StoredVerified"/> false means an acknowledged transition went missing.</summary>
public sealed record IngestResult(IngestSettings Settings, double TransitionsPerS, double PushesPerS, double MeanAckMs, long Acked, long Stored,
    CpuUse Cpu, double DirectInsertTransitionsPerS, RedisBenchmarkTool.Baselines Raw)
{
    public bool StoredVerified => Stored == Acked;

    public string ToJson() => Serialize(new
    {
        Benchmark = "ingest", Value = Math.Round(TransitionsPerS), Unit = "transitions/s", Settings.Clients, Settings.Shards, Settings.Batch,
        Seconds = Settings.Duration.TotalSeconds, PushesPerS = Math.Round(PushesPerS, 1), MeanAckMs = Math.Round(MeanAckMs, 3),
        AckedTransitions = Acked, StoredTransitions = Stored, StoredVerified,
        ProcessCpuCores = Round(Cpu.Process), RedisCpuCores = Round(Cpu.Redis),
        DirectInsertTransitionsPerS = Math.Round(DirectInsertTransitionsPerS),
        RedisBenchmarkSetPerS = Raw.Set, RedisBenchmarkSetrangePerS = Raw.SetRange, RedisBenchmarkHsetPerS = Raw.Hset,
        CeilingTransitionsPerS = Raw.Set * Settings.Batch, HsetCeilingTransitionsPerS = Raw.Hset * Settings.Batch,
        Cores = Environment.ProcessorCount, Date = Today(),
    });
}

/// <summary>N gRPC clients through a real in-process gateway into S shards, then the Redis baselines one after another.</summary>
public static class IngestBenchmark
{
    public static async Task<IngestResult> RunAsync(IngestSettings settings, CancellationToken ct)
    {
        int n = settings.Clients, s = settings.Shards, b = settings.Batch;
        await using var redis = new RedisLauncher();
        var servers = await redis.StartAsync(s, ct);
        // This connection plays the learner: it creates the run the gateway serves, and counts what was stored.
        await using var replay = await BenchRun.CreateAsync("bench-ingest", servers, 1_000_000, ct);
        var gatewayOptions = new GatewayOptions { Listen = "http://127.0.0.1:0", StatusLogIntervalMs = 0 };
        Through run;
        await using (var gateway = await GatewayHost.StartAsync(gatewayOptions, replay.Options, loggerFactory: null, ct))
        {
            Say($"ingest: {n} client(s) -> gateway {gateway.Address} -> {s} shard(s), {b} transitions per push");
            run = await ThroughGatewayAsync(gateway.Address, replay.Metadata!, servers, settings, ct);
        }
        long stored = (await replay.ReadStatsAsync(ct)).TotalInserted;

        // Baselines one after another, so nothing competes for the cores: the same inserts without gRPC, then raw Redis.
        Say("ingest: direct ShardedReplay.InsertAsync baseline");
        double direct = await ReplayBenchmarks.InsertTransitionsPerSecondAsync(replay, b, n, settings.Duration, ct);
        var fresh = await redis.StartOneAsync(ct);
        Say($"ingest: redis-benchmark against a fresh shard, {b * replay.Metadata!.RecordBytes}-byte payloads");
        var raw = await RedisBenchmarkTool.BaselinesAsync(redis, fresh.Port, n, b, replay.Metadata.RecordBytes, ct);
        return new IngestResult(settings, run.TransitionsPerS, run.PushesPerS, run.MeanAckMs, run.Acked, stored, run.Cpu, direct, raw);
    }

    private sealed record Through(double TransitionsPerS, double PushesPerS, double MeanAckMs, long Acked, CpuUse Cpu);

    private static async Task<Through> ThroughGatewayAsync(Uri address, ReplayMetadata metadata, IReadOnlyList<RedisLauncher.Server> servers,
        IngestSettings settings, CancellationToken ct)
    {
        var records = UnsafeByteOperations.UnsafeWrap(ReplayBenchmarks.RandomRecords(metadata, settings.Batch, seed: 3));
        await using var clients = new PushClients(address, "bench", records, settings.Clients, interval: null, abandonOnStop: false, ct);
        await clients.WhileRunningAsync(settings.WarmUp, ct);
        var meter = CpuMeter.Start(servers);
        long acked0 = clients.Acked, pushes0 = clients.Pushes, ticks0 = clients.AckTicks;
        long started = Stopwatch.GetTimestamp();
        await clients.WhileRunningAsync(settings.Duration, ct);
        double elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        long acked = clients.Acked - acked0, pushes = clients.Pushes - pushes0;
        double ackMs = (clients.AckTicks - ticks0) * 1000.0 / Stopwatch.Frequency / Math.Max(1, pushes);
        var cpu = meter.Stop();
        await clients.StopAsync(observeErrors: true); // every push in flight is acknowledged before the stored total is compared
        return new Through(acked / elapsed, pushes / elapsed, ackMs, clients.Acked, cpu);
    }
}
