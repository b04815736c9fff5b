using System.Net;
using System.Net.Sockets;
using DistSac.Processes;
using DistSac.Replay;
using Google.Protobuf;
using static DistSac.Bench.BenchOutput;

namespace DistSac.Bench;

/// <summary>
/// `bench gateway-idle` settings. <paramref name="Distsac"/>: the executable whose `replay` command is the gateway
/// process. <paramref name="CompareEnv"/>: empty, or the extra environment of a second gateway measured after the shipped one.
/// </summary>
public sealed record GatewayIdleSettings(string Distsac, int Clients, int Batch, double Offered, TimeSpan Duration, TimeSpan WarmUp,
    IReadOnlyDictionary<string, string> CompareEnv);

/// <summary>One gateway configuration's CPU through start-up, warm-up and the three timed phases.</summary>
public sealed record GatewayIdleResult(GatewayIdleSettings Settings, string GatewayEnv, double StartupCpuSeconds, ProcessCpu WarmUp, ProcessCpu Ingest,
    double IngestedPerSecond, ProcessCpu Held, long PushesWhileHeld, ProcessCpu NoClient)
{
    public string ToJson() => Serialize(new
    {
        Benchmark = "gateway-idle", Value = Cores3(Held.Gateway), Unit = "cores", GatewayEnv,
        IngestGatewayCpuCores = Cores3(Ingest.Gateway), HeldGatewayCpuCores = Cores3(Held.Gateway), NoClientGatewayCpuCores = Cores3(NoClient.Gateway),
        IngestRedisCpuCores = Cores3(Ingest.Redis), HeldRedisCpuCores = Cores3(Held.Redis), NoClientRedisCpuCores = Cores3(NoClient.Redis),
        StartupGatewayCpuS = Round(StartupCpuSeconds), WarmUpGatewayCpuCores = Cores3(WarmUp.Gateway),
        IngestTransitionsPerS = Math.Round(IngestedPerSecond, 1), OfferedTransitionsPerS = Settings.Offered, Settings.Batch, HeldClients = Settings.Clients,
        PushesAnsweredWhileHeld = PushesWhileHeld, Seconds = Settings.Duration.TotalSeconds, WarmUpSeconds = Settings.WarmUp.TotalSeconds,
        Cores = Environment.ProcessorCount, Date = Today(),
    });
}

/// <summary>
/// What a gateway (its own `distsac replay` process, CPU from /proc) costs at three loads, each measured after an
/// untimed warm-up so tiered JIT recompilation has settled: ingesting a paced ~1k transitions/s with this process
/// playing a learner that publishes its progress every 25 ms (a learner at ~1k updates/s publishing every 25 updates);
/// every push held by the rate limiter with the learner idle; and no client at all. Also the CPU the gateway spent
/// starting (process, JIT, Redis) and during the warm-up. With a compare environment the whole measurement is repeated
/// on a second gateway started with extra environment variables, so both are measured in one invocation on the same load.
/// </summary>
public static class GatewayIdleBenchmark
{
    private static readonly TimeSpan HeldSettle = TimeSpan.FromSeconds(6);

    /// <summary>Measures the shipped gateway, then the compare configuration if any; <paramref name="measured"/> sees each result as it is done.</summary>
    public static async Task<IReadOnlyList<GatewayIdleResult>> RunAsync(GatewayIdleSettings settings, Action<GatewayIdleResult> measured, CancellationToken ct)
    {
        await using var redis = new RedisLauncher();
        var servers = await redis.StartAsync(1, ct);
        var configurations = settings.CompareEnv.Count == 0
            ? new[] { ("shipped", (IReadOnlyDictionary<string, string>)new Dictionary<string, string>()) }
            : [("shipped", new Dictionary<string, string>()), (Describe(settings.CompareEnv), settings.CompareEnv)];
        var results = new List<GatewayIdleResult>(configurations.Length);
        foreach (var (name, extra) in configurations)
        {
            var r = await MeasureGatewayAsync(settings, name, servers, extra, ct);
            measured(r);
            results.Add(r);
        }
        return results;
    }

    /// <summary>NAME=VALUE pairs separated by commas; an empty string is none.</summary>
    public static Dictionary<string, string> ParseEnvPairs(string text, string flag)
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

    private static string Describe(IReadOnlyDictionary<string, string> env) =>
        env.Count == 0 ? "shipped" : string.Join(',', env.Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>One gateway process through start-up, warm-up and the three timed phases.</summary>
    private static async Task<GatewayIdleResult> MeasureGatewayAsync(GatewayIdleSettings load, string name, IReadOnlyList<RedisLauncher.Server> servers,
        IReadOnlyDictionary<string, string> extraEnv, CancellationToken ct)
    {
        // This connection plays the learner: it creates the run and, in the ingest phase, publishes progress. The learner
        // owns the rate-limit contract (run metadata): ratio 1, no free allowance, tolerance 1, so with no learner
        // progress every push after the first is held.
        await using var learner = await BenchRun.CreateAsync("bench-idle", servers, 1_000_000, ct, new RateLimitContract(1, 1, 0));
        using var spawner = new ProcessSpawner();
        int port = FreeLoopbackPort();
        var env = new Dictionary<string, string>(extraEnv)
        {
            ["DISTSAC_REPLAY__RUNID"] = learner.Options.RunId,
            ["DISTSAC_REPLAY__SHARDS__0"] = servers[0].Endpoint,
            ["DISTSAC_REPLAY__CAPACITYPERSHARD"] = "1000000",
            ["DISTSAC_GATEWAY__LISTEN"] = $"http://127.0.0.1:{port}",
            ["DISTSAC_GATEWAY__STATUSLOGINTERVALMS"] = "0",
        };
        var log = Path.Combine(Path.GetTempPath(), $"distsac-bench-idle-{learner.Options.RunId}.log");
        await using var gateway = await spawner.StartAsync("gateway", load.Distsac, ["replay"], env, log, (_, _) => { });
        var address = new Uri($"http://127.0.0.1:{port}");
        var records = UnsafeByteOperations.UnsafeWrap(ReplayBenchmarks.RandomRecords(learner.Metadata!, load.Batch, seed: 5));
        var interval = TimeSpan.FromSeconds(load.Clients * load.Batch / load.Offered);
        var clients = new PushClients(address, "idle", records, load.Clients, interval, abandonOnStop: true, ct);
        bool keepLog = false;
        try
        {
            Say($"gateway-idle [{Describe(extraEnv)}]: {load.Clients} clients -> gateway pid {gateway.Pid}; ~{load.Offered:F0} transitions/s offered, learner progress every 25 ms");
            using var learnerStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var publishing = Task.Run(() => PlayLearnerAsync(learner, clients, learnerStop.Token), ct);
            while (clients.Pushes < load.Clients) // every client got its RunInfo and pushed once
            {
                // A gateway that refused its configuration or clients that gave up would otherwise leave this waiting forever.
                if (gateway.HasExited)
                {
                    keepLog = true;
                    throw new InvalidOperationException($"the gateway exited with code {gateway.ExitCode} before every client pushed; its log is kept in {log}");
                }
                if (clients.All.IsCompleted)
                {
                    await clients.All;
                    throw new InvalidOperationException("push clients stopped before every client pushed once.");
                }
                await Task.Delay(20, ct);
            }
            double startup = ProcessCpuTime.Seconds(gateway.Pid);
            var warm = new GatewayCpuMeter(gateway.Pid, servers[0].Pid);
            await Task.Delay(load.WarmUp, ct);
            var warmCpu = warm.Stop();

            long acked0 = clients.Acked;
            var ingest = new GatewayCpuMeter(gateway.Pid, servers[0].Pid);
            await Task.Delay(load.Duration, ct);
            var ingestCpu = ingest.Stop();
            double ingested = (clients.Acked - acked0) / ingestCpu.WallSeconds;

            Say("gateway-idle: the learner stops publishing; every push is held");
            await learnerStop.CancelAsync();
            await publishing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            // The learner's last allowance is used up within ~1 s; the rest settles the newly hot hold path's tiered JIT
            // (8 wake-ups/s reach the 30-call threshold in ~4 s), so the window measures holding, not compiling.
            await Task.Delay(HeldSettle, ct);
            long pushes0 = clients.Pushes;
            var held = new GatewayCpuMeter(gateway.Pid, servers[0].Pid);
            await Task.Delay(load.Duration, ct);
            var heldCpu = held.Stop();
            long pushedWhileHeld = clients.Pushes - pushes0;

            Say("gateway-idle: the clients hang up; nothing is connected");
            await clients.StopAsync(observeErrors: false);
            await Task.Delay(TimeSpan.FromSeconds(2), ct); // cancelled calls and closed connections are cleaned up
            var none = new GatewayCpuMeter(gateway.Pid, servers[0].Pid);
            await Task.Delay(load.Duration, ct);
            var noClientCpu = none.Stop();
            return new GatewayIdleResult(load, name, startup, warmCpu, ingestCpu, ingested, heldCpu, pushedWhileHeld, noClientCpu);
        }
        finally
        {
            await clients.DisposeAsync();
            await gateway.StopAsync(TimeSpan.FromSeconds(10));
            if (!keepLog) TryDeleteFile(log);
        }
    }

    /// <summary>Publishes "updates = transitions acknowledged so far" every 25 ms, as a learner keeping pace would.</summary>
    private static async Task PlayLearnerAsync(ShardedReplay learner, PushClients clients, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(25));
        while (await timer.WaitForNextTickAsync(ct))
            await learner.PublishLearnerProgressAsync(clients.Acked, 0, ct);
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
