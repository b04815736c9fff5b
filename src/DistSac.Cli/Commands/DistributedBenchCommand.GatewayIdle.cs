using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DistSac.Cli.Local;
using DistSac.Protocol;
using DistSac.Protocol.V1;
using DistSac.Replay;
using DistSac.Worker;
using Google.Protobuf;
using Grpc.Core;

namespace DistSac.Cli.Commands;

/// <summary>
/// `distsac bench gateway-idle`: what a gateway (its own `distsac replay` process, CPU from /proc) costs at three loads,
/// each measured after an untimed warm-up so tiered JIT recompilation has settled: ingesting a paced ~1k transitions/s
/// with this process playing a learner that publishes its progress every 25 ms (a learner at ~1k updates/s publishing
/// every 25 updates); every push held by the rate limiter with the learner idle; and no client at all. It also reports
/// the CPU the gateway spent starting (process, JIT, Redis) and during the warm-up. With --compare-env the whole
/// measurement is repeated on a second gateway started with extra environment variables (e.g. the runtime knobs
/// before a change), so both configurations are measured in one invocation on the same load.
/// </summary>
public static partial class DistributedBenchCommand
{
    private static Command GatewayIdle()
    {
        var clients = Opt("--clients", 8, "Concurrent gRPC clients, each a worker id with one push at a time.");
        var seconds = Opt("--seconds", 10.0, "Timed duration of each of the three phases.");
        var warmUp = Opt("--warm-up-seconds", 15.0, "Untimed ingest first, so the JIT's tiered recompilation is over before anything is timed.");
        var rate = Opt("--rate", 1000.0, "Transitions/s offered in the ingest phase, over all clients.");
        var batch = Opt("--batch", 50, "Transitions per push.");
        var compare = Opt("--compare-env", "", "Comma-separated NAME=VALUE pairs: measure a second gateway started with these variables too (e.g. DOTNET_TieredPGO=1).");
        var command = new Command("gateway-idle", "Gateway CPU (cores) ingesting ~1k transitions/s, with every push held, and with no client; start-up and warm-up CPU too.")
        {
            clients, seconds, warmUp, rate, batch, compare,
        };
        command.SetAction(async (parse, ct) =>
        {
            int n = Positive(parse.GetValue(clients), "--clients"), b = parse.GetValue(batch);
            if (b < 1 || b > ProtocolLimits.MaxBatchTransitions) throw new ArgumentException($"--batch must be in [1, {ProtocolLimits.MaxBatchTransitions}] (got {b}).");
            double offered = parse.GetValue(rate);
            if (!(offered > 0) || double.IsInfinity(offered)) throw new ArgumentException($"--rate must be > 0 (got {offered}).");
            var load = new IdleLoad(n, b, offered, Seconds(parse.GetValue(seconds), "--seconds"), TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(warmUp))));
            var compareEnv = ParseEnvPairs(parse.GetValue(compare) ?? "", "--compare-env");

            await using var redis = new RedisLauncher();
            var servers = await redis.StartAsync(1, ct);
            var configurations = compareEnv.Count == 0
                ? new[] { ("shipped", new Dictionary<string, string>()) }
                : [("shipped", new Dictionary<string, string>()), (string.Join(',', compareEnv.Select(kv => $"{kv.Key}={kv.Value}")), compareEnv)];
            foreach (var (name, extra) in configurations)
            {
                var r = await MeasureGatewayAsync(servers, load, extra, ct);
                Print(new
                {
                    Benchmark = "gateway-idle", Value = Cores3(r.Held.Gateway), Unit = "cores", GatewayEnv = name,
                    IngestGatewayCpuCores = Cores3(r.Ingest.Gateway), HeldGatewayCpuCores = Cores3(r.Held.Gateway), NoClientGatewayCpuCores = Cores3(r.NoClient.Gateway),
                    IngestRedisCpuCores = Cores3(r.Ingest.Redis), HeldRedisCpuCores = Cores3(r.Held.Redis), NoClientRedisCpuCores = Cores3(r.NoClient.Redis),
                    StartupGatewayCpuS = Round(r.StartupCpuSeconds), WarmUpGatewayCpuCores = Cores3(r.WarmUp.Gateway),
                    IngestTransitionsPerS = Math.Round(r.IngestedPerSecond, 1), OfferedTransitionsPerS = offered, Batch = b, HeldClients = n,
                    PushesAnsweredWhileHeld = r.PushesWhileHeld, Seconds = load.Duration.TotalSeconds, WarmUpSeconds = load.WarmUp.TotalSeconds,
                    Cores = Environment.ProcessorCount, Date = Today(),
                });
            }
            return 0;
        });
        return command;
    }

    private static readonly TimeSpan HeldSettle = TimeSpan.FromSeconds(6);

    private sealed record IdleLoad(int Clients, int Batch, double Offered, TimeSpan Duration, TimeSpan WarmUp);

    private sealed record IdleResult(double StartupCpuSeconds, ProcessCpu WarmUp, ProcessCpu Ingest, double IngestedPerSecond, ProcessCpu Held,
        long PushesWhileHeld, ProcessCpu NoClient);

    /// <summary>One gateway process through start-up, warm-up and the three timed phases.</summary>
    private static async Task<IdleResult> MeasureGatewayAsync(IReadOnlyList<RedisLauncher.Server> servers, IdleLoad load,
        IReadOnlyDictionary<string, string> extraEnv, CancellationToken ct)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find the distsac executable's path.");
        // This connection plays the learner: it creates the run and, in the ingest phase, publishes progress.
        await using var learner = await CreateRunAsync("bench-idle", servers, 1_000_000, ct);
        using var spawner = new ProcessSpawner();
        int port = FreeLoopbackPort();
        var env = new Dictionary<string, string>(extraEnv)
        {
            ["DISTSAC_REPLAY__RUNID"] = learner.Options.RunId,
            ["DISTSAC_REPLAY__SHARDS__0"] = servers[0].Endpoint,
            ["DISTSAC_REPLAY__CAPACITYPERSHARD"] = "1000000",
            ["DISTSAC_GATEWAY__LISTEN"] = $"http://127.0.0.1:{port}",
            // Ratio 1, no free allowance, tolerance 1: with no learner progress every push after the first is held.
            ["DISTSAC_GATEWAY__RATELIMIT"] = "1",
            ["DISTSAC_GATEWAY__RATELIMITMINTRANSITIONS"] = "0",
            ["DISTSAC_GATEWAY__RATELIMITTOLERANCE"] = "1",
            ["DISTSAC_GATEWAY__STATUSLOGINTERVALMS"] = "0",
        };
        var log = Path.Combine(Path.GetTempPath(), $"distsac-bench-idle-{learner.Options.RunId}.log");
        await using var gateway = await spawner.StartAsync("gateway", self, ["replay"], env, log, (_, _) => { });
        var address = new Uri($"http://127.0.0.1:{port}");
        var records = UnsafeByteOperations.UnsafeWrap(ReplayBenchmarks.RandomRecords(learner.Metadata!, load.Batch, seed: 5));
        var interval = TimeSpan.FromSeconds(load.Clients * load.Batch / load.Offered);
        var counters = new PushCounters();
        using var stop = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, stop.Token);
        string tag = Guid.NewGuid().ToString("N")[..8];
        var loops = new Task[load.Clients];
        for (int i = 0; i < load.Clients; i++)
        {
            string workerId = $"idle-{tag}-{i}";
            loops[i] = Task.Run(() => PacedPushLoopAsync(address, workerId, records, interval, counters, linked.Token), ct);
        }
        try
        {
            Say($"gateway-idle [{Describe(extraEnv)}]: {load.Clients} clients -> gateway pid {gateway.Pid}; ~{load.Offered:F0} transitions/s offered, learner progress every 25 ms");
            using var learnerStop = CancellationTokenSource.CreateLinkedTokenSource(linked.Token);
            var publishing = Task.Run(() => PlayLearnerAsync(learner, counters, learnerStop.Token), ct);
            while (Interlocked.Read(ref counters.Pushes) < load.Clients) await Task.Delay(20, ct); // every client got its RunInfo and pushed once
            double startup = ProcessCpuTime.Seconds(gateway.Pid);
            var warm = new GatewayCpuMeter(gateway.Pid, servers[0].Pid);
            await Task.Delay(load.WarmUp, ct);
            var warmCpu = warm.Stop();

            long acked0 = Interlocked.Read(ref counters.Acked);
            var ingest = new GatewayCpuMeter(gateway.Pid, servers[0].Pid);
            await Task.Delay(load.Duration, ct);
            var ingestCpu = ingest.Stop();
            double ingested = (Interlocked.Read(ref counters.Acked) - acked0) / ingestCpu.WallSeconds;

            Say("gateway-idle: the learner stops publishing; every push is held");
            await learnerStop.CancelAsync();
            await publishing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            // The learner's last allowance is used up within ~1 s; the rest settles the newly hot hold path's tiered JIT
            // (8 wake-ups/s reach the 30-call threshold in ~4 s), so the window measures holding, not compiling.
            await Task.Delay(HeldSettle, ct);
            long pushes0 = Interlocked.Read(ref counters.Pushes);
            var held = new GatewayCpuMeter(gateway.Pid, servers[0].Pid);
            await Task.Delay(load.Duration, ct);
            var heldCpu = held.Stop();
            long pushedWhileHeld = Interlocked.Read(ref counters.Pushes) - pushes0;

            Say("gateway-idle: the clients hang up; nothing is connected");
            await stop.CancelAsync();
            foreach (var loop in loops) await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await Task.Delay(TimeSpan.FromSeconds(2), ct); // cancelled calls and closed connections are cleaned up
            var none = new GatewayCpuMeter(gateway.Pid, servers[0].Pid);
            await Task.Delay(load.Duration, ct);
            var noClientCpu = none.Stop();
            return new IdleResult(startup, warmCpu, ingestCpu, ingested, heldCpu, pushedWhileHeld, noClientCpu);
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var loop in loops) await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await gateway.StopAsync(TimeSpan.FromSeconds(10));
            TryDeleteFile(log);
        }
    }

    /// <summary>NAME=VALUE pairs separated by commas; an empty string is none.</summary>
    private static Dictionary<string, string> ParseEnvPairs(string text, string flag)
    {
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ArgumentException($"{flag}: '{part}' is not NAME=VALUE (e.g. {flag} DOTNET_TieredPGO=1,DOTNET_TieredCompilation=1).");
            pairs[part[..eq]] = part[(eq + 1)..];
        }
        return pairs;
    }

    /// <summary>Cores to three decimals: the bars (0.01, 0.03) need more than the usual two; NaN (unreadable) becomes null.</summary>
    private static double? Cores3(double value) => double.IsFinite(value) ? Math.Round(value, 3) : null;

    private static string Describe(IReadOnlyDictionary<string, string> env) =>
        env.Count == 0 ? "shipped" : string.Join(',', env.Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>One worker's pushes, one at a time, started no faster than every <paramref name="interval"/>; held pushes simply wait.</summary>
    private static async Task PacedPushLoopAsync(Uri address, string workerId, ByteString records, TimeSpan interval, PushCounters counters, CancellationToken ct)
    {
        using var channel = GatewayChannel.Create(address.ToString());
        var client = new ReplayGateway.ReplayGatewayClient(channel);
        RunInfo info;
        for (var tries = 0; ; tries++)
        {
            try
            {
                info = await client.GetRunInfoAsync(new GetRunInfoRequest { WorkerId = workerId }, cancellationToken: ct);
                break;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && tries < 100)
            {
                await Task.Delay(200, ct); // the gateway process is still starting
            }
        }
        int count = records.Length / info.RecordBytes;
        long next = Stopwatch.GetTimestamp();
        for (long sequence = 0; !ct.IsCancellationRequested; sequence++)
        {
            long now = Stopwatch.GetTimestamp();
            if (next > now) await Task.Delay(Stopwatch.GetElapsedTime(now, next), ct);
            else next = now; // after a hold: go on at the offered rate, do not catch up in a burst
            next += (long)(interval.TotalSeconds * Stopwatch.Frequency);
            var ack = await client.PushAsync(
                new PushRequest { WorkerId = workerId, Incarnation = info.Incarnation, Sequence = sequence, TransitionCount = count, Records = records },
                cancellationToken: ct);
            Interlocked.Add(ref counters.Acked, ack.Stored);
            Interlocked.Increment(ref counters.Pushes);
        }
    }

    /// <summary>Publishes "updates = transitions acknowledged so far" every 25 ms, as a learner keeping pace would.</summary>
    private static async Task PlayLearnerAsync(ShardedReplay learner, PushCounters counters, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(25));
        while (await timer.WaitForNextTickAsync(ct))
            await learner.PublishLearnerProgressAsync(Interlocked.Read(ref counters.Acked), 0, ct);
    }

    private readonly record struct ProcessCpu(double Gateway, double Redis, double WallSeconds);

    /// <summary>CPU cores of the gateway and redis-server processes from construction until <see cref="Stop"/>.</summary>
    private sealed class GatewayCpuMeter(int gatewayPid, int redisPid)
    {
        private readonly double _gateway0 = ProcessCpuTime.Seconds(gatewayPid), _redis0 = ProcessCpuTime.Seconds(redisPid);
        private readonly long _started = Stopwatch.GetTimestamp();

        public ProcessCpu Stop()
        {
            double wall = Stopwatch.GetElapsedTime(_started).TotalSeconds;
            return new ProcessCpu((ProcessCpuTime.Seconds(gatewayPid) - _gateway0) / wall, (ProcessCpuTime.Seconds(redisPid) - _redis0) / wall, wall);
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void TryDeleteFile(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
