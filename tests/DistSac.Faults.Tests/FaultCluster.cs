using DistSac.Observability;
using System.Globalization;
using System.Text.RegularExpressions;
using DistSac.Integration.Tests;
using DistSac.Replay;
using DistSac.Testing;
using StackExchange.Redis;

namespace DistSac.Faults.Tests;

/// <summary>
/// One run as separate processes on loopback: 2 AOF Redis shards, 2 gateways, 1 learner, 2 workers (one per gateway),
/// each restartable at its old address (and, for workers, with its old id). Small networks and a 2 ms sleeping env
/// step keep the whole run inside 2 cores.
/// </summary>
public sealed partial class FaultCluster : IAsyncDisposable
{
    public const string RunId = "faults";
    public const int SigKill = 9, SigTerm = 15;
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private readonly string _root = Directory.CreateTempSubdirectory("distsac-faults-").FullName;
    private readonly Action<string> _log;
    private readonly int _learnerHttp = FreePort.Next();
    private readonly List<DistSacProcess> _retired = [];

    /// <summary>
    /// Small (32x32 networks, no evaluation): the seconds-long rounds of the fault suite. Learning: the learner's default
    /// networks, evaluation every 1,000 updates and a stop at -200 on Pendulum-v1, to show a run still learns after faults.
    /// </summary>
    public enum LearnerProfile { Small, Learning }

    private readonly LearnerProfile _profile;

    private FaultCluster(Action<string> log, LearnerProfile profile)
    {
        _log = log;
        _profile = profile;
        Shards = [new AofRedisShard(0, _root), new AofRedisShard(1, _root)];
        Gateways = [new Gateway(FreePort.Next(), FreePort.Next()), new Gateway(FreePort.Next(), FreePort.Next())];
        Workers = [new Worker("worker-a", 0, FreePort.Next()), new Worker("worker-b", 1, FreePort.Next())];
    }

    public AofRedisShard[] Shards { get; }
    public Gateway[] Gateways { get; }
    public Worker[] Workers { get; }
    public DistSacProcess Learner { get; private set; } = null!;
    public string RunsRoot => Path.Combine(_root, "runs");
    public string CheckpointPath => Path.Combine(RunsRoot, RunId, "checkpoint", "learner.ckpt");

    public sealed class Gateway(int grpcPort, int httpPort)
    {
        public int GrpcPort { get; } = grpcPort;
        public int HttpPort { get; } = httpPort;
        public string Address => $"http://127.0.0.1:{GrpcPort}";
        public DistSacProcess Process { get; set; } = null!;
    }

    /// <summary>
    /// A worker id and what the audit knows of it: Baseline is what Redis held for it when its last SIGKILLed
    /// incarnation was gone; AckedSince/SlackSince add up the incarnations stopped cleanly after that (acknowledged,
    /// and stepped but not acknowledged).
    /// </summary>
    public sealed class Worker(string id, int gateway, int httpPort)
    {
        public string Id { get; } = id;
        public int GatewayIndex { get; } = gateway;
        public int HttpPort { get; } = httpPort;
        public DistSacProcess Process { get; set; } = null!;
        public long Baseline { get; set; }
        public long AckedSince { get; set; }
        public long SlackSince { get; set; }
        public int Incarnations { get; set; }
    }

    public static async Task<FaultCluster> StartAsync(Action<string> log, LearnerProfile profile = LearnerProfile.Small)
    {
        var cluster = new FaultCluster(log, profile);
        foreach (var s in cluster.Shards) await s.StartAsync();
        cluster.StartLearner();
        foreach (var g in cluster.Gateways) cluster.StartGateway(g);
        foreach (var w in cluster.Workers) cluster.StartWorker(w);
        return cluster;
    }

    private string ShardList => string.Join(',', Shards.Select(s => s.Endpoint));

    public void StartLearner() => Learner = DistSacProcess.Start(_profile == LearnerProfile.Small
        ?
        [
            "learner", "--shards", ShardList, "--run-id", RunId, "--runs-root", RunsRoot, "--device", "cpu", "--threads", "1",
            "--hidden", "32,32", "--batch-size", "64", "--warmup", "300", "--updates-per-transition", "1", "--steps", "100000000",
            "--checkpoint-interval", "200", "--log-interval", "500", "--eval-interval", "100000000", "--capacity-per-shard", "100000",
            "--http-listen", $"http://127.0.0.1:{_learnerHttp}",
        ]
        :
        [
            "learner", "--shards", ShardList, "--run-id", RunId, "--runs-root", RunsRoot, "--device", "cpu", "--threads", "2",
            // tau 0.005, the value this run was calibrated with: with Pendulum-v1's preset (0.02) the learner can reach
            // -200 at the 2,000-update evaluation and stop on its own before the last compound fault, set at 2,000.
            "--warmup", "300", "--updates-per-transition", "1", "--steps", "30000", "--seed", "0", "--tau", "0.005",
            "--checkpoint-interval", "500", "--log-interval", "500", "--eval-interval", "1000", "--stop-at-eval-return", "-200",
            "--capacity-per-shard", "100000", "--http-listen", $"http://127.0.0.1:{_learnerHttp}",
        ]);

    public string MetricsPath => Path.Combine(RunsRoot, RunId, "metrics.jsonl");

    public void StartGateway(Gateway g) => g.Process = DistSacProcess.Start(
    [
        "replay", "--shards", ShardList, "--run-id", RunId, "--listen", g.Address, "--http-listen", $"http://127.0.0.1:{g.HttpPort}",
        "--capacity-per-shard", "100000", "--status-log-interval-ms", "5000", // the rate limit is the learner's (run metadata)
    ]);

    public void StartWorker(Worker w)
    {
        w.Incarnations++;
        w.Process = DistSacProcess.Start(
        [
            "worker", "--gateway", Gateways[w.GatewayIndex].Address, "--worker-id", w.Id, "--envs", "1", "--batch-transitions", "16",
            "--flush-interval-ms", "50", "--simulated-step-cost-us", "2000", "--simulated-step-cost-mode", "sleep",
            "--push-timeout-ms", "5000", "--shutdown-flush-timeout-ms", "15000", "--progress-interval-seconds", "2",
            "--http-listen", $"http://127.0.0.1:{w.HttpPort}",
        ]);
    }

    /// <summary>Signals a role process and waits for it; a SIGTERM must end with exit 0 (every role's normal stop).</summary>
    public async Task StopAsync(DistSacProcess process, int signal, string name)
    {
        process.Signal(signal);
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        if (signal == SigTerm) Assert.True(exit == 0, $"{name} exited {exit} on SIGTERM:\n{Tail(process)}");
        _retired.Add(process);
    }

    /// <summary>SIGKILL: what Redis holds for the worker once it is gone becomes its new baseline, at least what it had acknowledged.</summary>
    public async Task KillWorkerAsync(Worker w)
    {
        var ackedBefore = (long)(await ScrapeAsync(w.HttpPort, "distsac_transitions_pushed_total") ?? 0);
        await StopAsync(w.Process, SigKill, w.Id);
        await Task.Delay(2000); // a push the gateway was inside when the worker died lands (or is dropped) by now
        var stored = await StoredByWorkerAsync();
        long lower = w.Baseline + w.AckedSince + ackedBefore;
        _log($"  {w.Id} SIGKILLed: {stored.GetValueOrDefault(w.Id)} stored, at least {lower} acknowledged");
        Assert.True(stored.GetValueOrDefault(w.Id) >= lower, $"{w.Id}: {lower} acknowledged but {stored.GetValueOrDefault(w.Id)} stored");
        w.Baseline = stored.GetValueOrDefault(w.Id);
        w.AckedSince = 0;
        w.SlackSince = 0;
    }

    /// <summary>SIGTERM: the worker flushes and reports exactly what was acknowledged.</summary>
    public async Task TerminateWorkerAsync(Worker w)
    {
        await StopAsync(w.Process, SigTerm, w.Id);
        var m = WorkerStopped().Match(w.Process.Output);
        Assert.True(m.Success, $"{w.Id} did not log its final counts:\n{Tail(w.Process)}");
        long steps = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), acked = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        _log($"  {w.Id} stopped: {steps} stepped, {acked} acknowledged");
        w.AckedSince += acked;
        w.SlackSince += steps - acked;
    }

    /// <summary>
    /// Per worker id: Redis holds at least everything acknowledged (scraped before the read) and at most everything
    /// stepped (scraped after it); the per-worker counts add up to the shards' totals; nothing is stored under an id
    /// no worker of ours used (the fuzzer's). With <paramref name="exact"/> (workers stopped) it is equality.
    /// </summary>
    public async Task AuditAsync(bool exact)
    {
        var acked = new Dictionary<string, long>();
        foreach (var w in Workers) acked[w.Id] = exact ? 0 : (long)(await ScrapeAsync(w.HttpPort, "distsac_transitions_pushed_total") ?? 0);
        var (stored, totals) = await ReadStoreAsync();
        foreach (var w in Workers)
        {
            // A worker whose /metrics does not answer yet (just restarted) gives no upper bound this round.
            double? steps = exact ? 0 : await ScrapeAsync(w.HttpPort, "distsac_env_steps_total");
            long have = stored.GetValueOrDefault(w.Id);
            long lower = w.Baseline + w.AckedSince + acked[w.Id];
            long upper = steps is { } st ? lower + w.SlackSince + Math.Max(0, (long)st - acked[w.Id]) : long.MaxValue;
            _log($"  {w.Id}: {have} stored; acknowledged {lower}{(upper > lower && upper < long.MaxValue ? $", stepped at most {upper}" : "")} ({w.Incarnations} incarnation(s))");
            if (upper == lower) Assert.Equal(lower, have);
            Assert.True(have >= lower, $"{w.Id}: {lower} acknowledged but only {have} stored (an acknowledged transition was lost)");
            Assert.True(have <= upper, $"{w.Id}: {have} stored but at most {upper} were stepped (a transition was stored twice)");
        }
        foreach (var id in stored.Keys) Assert.Contains(id, Workers.Select(w => w.Id));
        Assert.True(totals == stored.Values.Sum(), $"the shards' totals add up to {totals} but their per-worker counts to {stored.Values.Sum()}");
    }

    /// <summary>Transitions stored per worker id (over all shards), and the shards' "total" counters added up.</summary>
    public async Task<(Dictionary<string, long> PerWorker, long Totals)> ReadStoreAsync()
    {
        var stored = new Dictionary<string, long>(StringComparer.Ordinal);
        long totals = 0;
        foreach (var s in Shards)
        {
            await using var redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { s.Endpoint }, AbortOnConnectFail = true });
            // One MULTI per shard: the insert script moves both together, and pushes keep landing meanwhile.
            var snapshot = redis.GetDatabase().CreateTransaction();
            var counts = snapshot.HashGetAllAsync(RunKeys.ShardWorkerCounts(RunId, s.Index));
            var total = snapshot.HashGetAsync(RunKeys.ShardState(RunId, s.Index), "total");
            Assert.True(await snapshot.ExecuteAsync(), $"the audit's read of shard {s.Index} did not run");
            foreach (var e in await counts)
                stored[(string)e.Name!] = stored.GetValueOrDefault((string)e.Name!) + (long)e.Value;
            totals += (long?)await total ?? 0;
        }
        return (stored, totals);
    }

    public async Task<Dictionary<string, long>> StoredByWorkerAsync() => (await ReadStoreAsync()).PerWorker;

    /// <summary>The learner's distsac_updates_total, or null while its /metrics does not answer.</summary>
    public Task<double?> LearnerUpdatesAsync() => ScrapeAsync(_learnerHttp, "distsac_updates_total");

    /// <summary>Waits until the learner's update counter moves past where it first reads after now; returns the seconds it took.</summary>
    public async Task<double> WaitForLearnerUpdatingAsync(TimeSpan limit)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double? first = null;
        while (clock.Elapsed < limit)
        {
            Assert.False(Learner.HasExited, $"the learner exited with {(Learner.HasExited ? Learner.ExitCode : 0)}:\n{Tail(Learner)}");
            var now = await LearnerUpdatesAsync();
            if (now is { } n)
            {
                first ??= n;
                if (n >= first + 20) return clock.Elapsed.TotalSeconds;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"the learner did not update within {limit.TotalSeconds:F0} s (distsac_updates_total {first}):\n{Tail(Learner)}" +
            $"\nits /metrics now:\n{await GaugesAsync(_learnerHttp)}\nthe gateways' /metrics now:\n{string.Join('\n', await Task.WhenAll(Gateways.Select(g => GaugesAsync(g.HttpPort))))}");
    }

    /// <summary>A role's distsac_ series as one line (what it waits for, what it sees), for a failure message.</summary>
    private static async Task<string> GaugesAsync(int port) => await ScrapeAllAsync(port) is { } series
        ? string.Join(", ", series.Where(p => p.Key.StartsWith("distsac_", StringComparison.Ordinal)).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"))
        : $"(no answer on {port})";

    /// <summary>No role died on its own: every process we did not stop is still running.</summary>
    public void AssertAllRunning()
    {
        Assert.False(Learner.HasExited, $"learner died ({(Learner.HasExited ? Learner.ExitCode : 0)}):\n{Tail(Learner)}");
        for (int i = 0; i < Gateways.Length; i++) Assert.False(Gateways[i].Process.HasExited, $"gateway {i} died:\n{Tail(Gateways[i].Process)}");
        foreach (var w in Workers) Assert.False(w.Process.HasExited, $"{w.Id} died:\n{Tail(w.Process)}");
        foreach (var s in Shards) Assert.True(s.IsRunning, $"redis shard {s.Index} died");
    }

    /// <summary>One series from a role's /metrics, or null while it does not answer (or lacks the series).</summary>
    public static async Task<double?> ScrapeAsync(int port, string series) =>
        await ScrapeAllAsync(port) is { } all && all.TryGetValue(series, out var v) ? v : null;

    /// <summary>Every series on a role's /metrics, or null while it does not answer.</summary>
    private static async Task<Dictionary<string, double>?> ScrapeAllAsync(int port)
    {
        try
        {
            return PrometheusText.Parse(await Http.GetStringAsync($"http://127.0.0.1:{port}/metrics"));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    public static string Tail(DistSacProcess p)
    {
        var lines = p.Output.Split('\n');
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 40)));
    }

    [GeneratedRegex(@"stopped: (\d+) env steps, (\d+) transitions acknowledged")]
    private static partial Regex WorkerStopped();

    public async ValueTask DisposeAsync()
    {
        // Each process once: a stopped one can still be the current learner/gateway/worker.
        var processes = new HashSet<DistSacProcess>(_retired);
        foreach (var w in Workers) if (w.Process is not null) processes.Add(w.Process);
        foreach (var g in Gateways) if (g.Process is not null) processes.Add(g.Process);
        if (Learner is not null) processes.Add(Learner);
        foreach (var p in processes) await p.DisposeAsync();
        foreach (var s in Shards) await s.DisposeAsync();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
