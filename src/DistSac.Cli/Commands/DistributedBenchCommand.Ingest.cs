using System.Diagnostics;
using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using DistSac.Cli.Local;
using DistSac.Gateway;
using DistSac.Protocol;
using DistSac.Protocol.V1;
using DistSac.Replay;
using DistSac.Worker;
using Google.Protobuf;

namespace DistSac.Cli.Commands;

/// <summary>`distsac bench ingest`: N gRPC clients through a real in-process gateway into S shards, then the Redis baselines.</summary>
public static partial class DistributedBenchCommand
{
    private static Command Ingest()
    {
        var clients = Opt("--clients", 4, "Concurrent gRPC clients (N), each a worker id pushing one batch at a time.");
        var shards = Opt("--shards", 1, "redis-server shards (S).");
        var seconds = Opt("--seconds", 10.0, "Timed duration (also of the direct-insert baseline).");
        var batch = Opt("--batch", 256, "Transitions per push.");
        var warmUp = Opt("--warm-up-seconds", 1.0, "Untimed pushing first, so the JIT and connections settle.");
        var command = new Command("ingest", "Transitions/s from N gRPC clients through an in-process gateway into S shards, with Redis baselines.")
        {
            clients, shards, seconds, batch, warmUp,
        };
        command.SetAction(async (parse, ct) =>
        {
            int n = Positive(parse.GetValue(clients), "--clients"), s = Positive(parse.GetValue(shards), "--shards");
            int b = parse.GetValue(batch);
            if (b < 1 || b > ProtocolLimits.MaxBatchTransitions) throw new ArgumentException($"--batch must be in [1, {ProtocolLimits.MaxBatchTransitions}] (got {b}).");
            var duration = Seconds(parse.GetValue(seconds), "--seconds");
            var warm = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(warmUp)));
            await using var redis = new RedisLauncher();
            var servers = await redis.StartAsync(s, ct);
            // This connection plays the learner: it creates the run the gateway serves, and counts what was stored.
            await using var replay = await CreateRunAsync("bench-ingest", servers, 1_000_000, ct);
            var gatewayOptions = new GatewayOptions { Listen = "http://127.0.0.1:0", StatusLogIntervalMs = 0 };
            IngestRun run;
            await using (var gateway = await GatewayHost.StartAsync(gatewayOptions, replay.Options, loggerFactory: null, ct))
            {
                Say($"ingest: {n} client(s) -> gateway {gateway.Address} -> {s} shard(s), {b} transitions per push");
                run = await IngestThroughGatewayAsync(gateway.Address, replay.Metadata!, servers, n, b, warm, duration, ct);
            }
            long stored = (await replay.ReadStatsAsync(ct)).TotalInserted;

            // Baselines one after another, so nothing competes for the cores: the same inserts without gRPC, then raw Redis.
            Say("ingest: direct ShardedReplay.InsertAsync baseline");
            double direct = await ReplayBenchmarks.InsertTransitionsPerSecondAsync(replay, b, n, duration, ct);
            var fresh = await redis.StartOneAsync(ct);
            Say($"ingest: redis-benchmark against a fresh shard, {b * replay.Metadata!.RecordBytes}-byte payloads");
            var raw = await RedisBaselinesAsync(redis, fresh.Port, n, b, replay.Metadata.RecordBytes, ct);
            Print(new
            {
                Benchmark = "ingest", Value = Math.Round(run.TransitionsPerS), Unit = "transitions/s", Clients = n, Shards = s, Batch = b,
                Seconds = duration.TotalSeconds, PushesPerS = Math.Round(run.PushesPerS, 1), MeanAckMs = Math.Round(run.MeanAckMs, 3),
                AckedTransitions = run.Acked, StoredTransitions = stored, StoredVerified = stored == run.Acked,
                ProcessCpuCores = Round(run.Cpu.Process), RedisCpuCores = Round(run.Cpu.Redis),
                DirectInsertTransitionsPerS = Math.Round(direct),
                RedisBenchmarkSetPerS = raw.Set, RedisBenchmarkSetrangePerS = raw.SetRange, RedisBenchmarkHsetPerS = raw.Hset,
                CeilingTransitionsPerS = raw.Set * b, HsetCeilingTransitionsPerS = raw.Hset * b,
                Cores = Environment.ProcessorCount, Date = Today(),
            });
            return stored == run.Acked ? 0 : 1;
        });
        return command;
    }

    private sealed record IngestRun(double TransitionsPerS, double PushesPerS, double MeanAckMs, long Acked, CpuUse Cpu);

    private sealed class PushCounters
    {
        public long Acked;
        public long Pushes;
        public long AckTicks;
    }

    private static async Task<IngestRun> IngestThroughGatewayAsync(Uri address, ReplayMetadata metadata, IReadOnlyList<RedisLauncher.Server> servers,
        int clients, int batch, TimeSpan warm, TimeSpan duration, CancellationToken ct)
    {
        // One payload shared by every push: the clients spend their CPU on gRPC, not on making up records.
        var records = UnsafeByteOperations.UnsafeWrap(ReplayBenchmarks.RandomRecords(metadata, batch, seed: 3));
        var counters = new PushCounters();
        using var stop = new CancellationTokenSource();
        string tag = Guid.NewGuid().ToString("N")[..8];
        var loops = new Task[clients];
        for (int i = 0; i < clients; i++)
        {
            string workerId = $"bench-{tag}-{i}";
            loops[i] = Task.Run(() => PushLoopAsync(address, workerId, records, batch, counters, stop.Token, ct), ct);
        }
        var all = Task.WhenAll(loops);
        try
        {
            await WhileRunningAsync(all, warm, ct);
            var meter = CpuMeter.Start(servers);
            long acked0 = Interlocked.Read(ref counters.Acked), pushes0 = Interlocked.Read(ref counters.Pushes), ticks0 = Interlocked.Read(ref counters.AckTicks);
            long started = Stopwatch.GetTimestamp();
            await WhileRunningAsync(all, duration, ct);
            double elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            long acked = Interlocked.Read(ref counters.Acked) - acked0, pushes = Interlocked.Read(ref counters.Pushes) - pushes0;
            double ackMs = (Interlocked.Read(ref counters.AckTicks) - ticks0) * 1000.0 / Stopwatch.Frequency / Math.Max(1, pushes);
            var cpu = meter.Stop();
            await stop.CancelAsync();
            await all; // every push in flight is acknowledged before the stored total is compared
            return new IngestRun(acked / elapsed, pushes / elapsed, ackMs, Interlocked.Read(ref counters.Acked), cpu);
        }
        finally
        {
            await stop.CancelAsync();
        }
    }

    private static async Task PushLoopAsync(Uri address, string workerId, ByteString records, int batch, PushCounters counters,
        CancellationToken stop, CancellationToken ct)
    {
        using var channel = GatewayChannel.Create(address.ToString());
        var client = new ReplayGateway.ReplayGatewayClient(channel);
        var info = await client.GetRunInfoAsync(new GetRunInfoRequest { WorkerId = workerId }, cancellationToken: ct);
        for (long sequence = 0; !stop.IsCancellationRequested; sequence++)
        {
            long started = Stopwatch.GetTimestamp();
            // Only Ctrl-C cancels a push: ending the timed window must not abandon a push the gateway may have stored.
            var ack = await client.PushAsync(
                new PushRequest { WorkerId = workerId, Incarnation = info.Incarnation, Sequence = sequence, TransitionCount = batch, Records = records },
                cancellationToken: ct);
            Interlocked.Add(ref counters.AckTicks, Stopwatch.GetTimestamp() - started);
            Interlocked.Add(ref counters.Acked, ack.Stored);
            Interlocked.Increment(ref counters.Pushes);
        }
    }

    /// <summary>Waits <paramref name="span"/>, failing at once if the clients end early (a client's error surfaces here).</summary>
    private static async Task WhileRunningAsync(Task clients, TimeSpan span, CancellationToken ct)
    {
        var delay = Task.Delay(span, ct);
        if (await Task.WhenAny(clients, delay) == clients)
        {
            await clients;
            throw new InvalidOperationException("ingest clients stopped before the measurement ended.");
        }
        await delay;
    }

    /// <summary>Raw redis-benchmark requests/s with one push's payload; null where redis-benchmark is missing or failed.</summary>
    private sealed record RawRedis(double? Set, double? SetRange, double? Hset);

    [GeneratedRegex(@"([0-9]+(?:\.[0-9]+)?) requests per second")]
    private static partial Regex RequestsPerSecond();

    private static async Task<RawRedis> RedisBaselinesAsync(RedisLauncher redis, int port, int clients, int batch, int recordBytes, CancellationToken ct)
    {
        static string N(int v) => v.ToString(CultureInfo.InvariantCulture);
        int bytes = batch * recordBytes;
        string[] common = ["-h", "127.0.0.1", "-p", N(port), "-c", N(clients), "-q"];
        var set = await RedisBenchmarkAsync(redis, [.. common, "-n", "20000", "-t", "set", "-d", N(bytes)], ct);
        var setRange = await RedisBenchmarkAsync(redis, [.. common, "-n", "20000", "SETRANGE", "bench:setrange", "0", new string('x', bytes)], ct);
        // One HSET of `batch` fields of one record each is the Redis work of the insert script without Lua: the layout's ceiling.
        var hash = new List<string>(common) { "-n", N(Math.Max(1000, 1_000_000 / batch)), "HSET", "bench:hset" };
        for (int i = 0; i < batch; i++) hash.AddRange([N(i), new string('x', recordBytes)]);
        var hset = await RedisBenchmarkAsync(redis, hash, ct);
        return new RawRedis(set, setRange, hset);
    }

    private static async Task<double?> RedisBenchmarkAsync(RedisLauncher redis, IEnumerable<string> args, CancellationToken ct)
    {
        IReadOnlyList<string>? lines;
        try
        {
            lines = await redis.RunToolAsync("redis-benchmark", args, TimeSpan.FromSeconds(60), ct);
        }
        catch (TimeoutException)
        {
            Say("redis-benchmark did not finish within 60 s; its figure is left out");
            return null;
        }
        if (lines is null)
        {
            Say("redis-benchmark is not installed (apt-get install redis-tools); its figures are left out");
            return null;
        }
        // -q prints progress lines, then "<TEST>: <n> requests per second, p50=..." last.
        for (int i = lines.Count - 1; i >= 0; i--)
        {
            var match = RequestsPerSecond().Match(lines[i]);
            if (match.Success) return Math.Round(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), 1);
        }
        Say($"redis-benchmark printed no requests/s ({(lines.Count > 0 ? lines[^1] : "no output")})");
        return null;
    }
}
