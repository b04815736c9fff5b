using System.Diagnostics;
using System.Globalization;
using DistSac.Envs;
using DistSac.Gateway;
using DistSac.Local;
using DistSac.Plots;
using DistSac.Processes;
using DistSac.Replay;
using DistSac.Worker;
using static DistSac.Bench.BenchOutput;

namespace DistSac.Bench;

/// <summary>A worker program: `distsac worker` (JIT) or the Native AOT distsac-worker.</summary>
public sealed record WorkerExecutable(string Name, string Path, IReadOnlyList<string> Arguments);

/// <summary>
/// `bench scale` settings: the worker-process counts (ascending), the simulated step cost, the timed and warm-up
/// durations, S shards, envs per worker, and the worker programs measured at every count (the first is the baseline).
/// </summary>
public sealed record ScaleSettings(IReadOnlyList<int> WorkerCounts, int StepCostUs, SimulatedCostMode Mode, TimeSpan Duration, int Shards,
    int EnvsPerWorker, TimeSpan WarmUp, IReadOnlyList<WorkerExecutable> Workers)
{
    /// <summary>Env steps run one after another, each costing the step cost: the ceiling per worker does not depend on the env count.</summary>
    public double IdealPerWorker => 1e6 / StepCostUs;
}

/// <summary>The workers' CPU in the timed window (cores, and CPU microseconds per stored env step) and their RSS at its end.</summary>
/// <param name="SimulatorCpuMicrosecondsPerStep">The sleeping simulator alone (SimulatedStepCostProbe), per env step; null when not measured.</param>
public sealed record WorkerUse(double Cores, double CpuMicrosecondsPerStep, double RssMeanMb, double RssMaxMb, double? SimulatorCpuMicrosecondsPerStep)
{
    /// <summary>Worker CPU per stored step less the simulator's own: actor, batching, gRPC and the runtime.</summary>
    public double? OutsideSimulator => CpuMicrosecondsPerStep - SimulatorCpuMicrosecondsPerStep;
}

/// <summary>One measurement: <paramref name="Workers"/> processes of one worker program.</summary>
public sealed record ScalePoint(WorkerExecutable Kind, int Workers, double Rate, CpuUse Gateway, WorkerUse Use);

/// <summary>`bench scale` figures: every (worker program, count) measured, in order.</summary>
public sealed record ScaleResult(ScaleSettings Settings, IReadOnlyList<ScalePoint> Measured)
{
    /// <summary>The first worker program's stored env steps/s per count (the plotted curve).</summary>
    public IReadOnlyList<(int Workers, double Rate)> Rates =>
        Measured.Where(m => m.Kind == Settings.Workers[0]).Select(m => (m.Workers, m.Rate)).ToList();

    /// <summary>The first program's per-worker baseline: rate(1), or its smallest count's per-worker rate when 1 was not measured.</summary>
    public double PerWorker => Baseline(Settings.Workers[0]);

    private double Baseline(WorkerExecutable kind)
    {
        var first = Measured.First(m => m.Kind == kind);
        return first.Rate / first.Workers;
    }

    public string ToJson()
    {
        // Per kind, rate(1) is the per-worker baseline; a list without 1 uses its smallest count's per-worker rate instead.
        var points = new List<object>();
        foreach (var kind in Settings.Workers)
        {
            double baseline = Baseline(kind);
            points.AddRange(Measured.Where(m => m.Kind == kind).Select(m => new
            {
                Worker = kind.Name, m.Workers, EnvStepsPerS = Math.Round(m.Rate, 1),
                Efficiency = baseline > 0 ? Math.Round(m.Rate / (m.Workers * baseline), 3) : (double?)null,
                WorkerCpuUsPerStep = Math.Round(m.Use.CpuMicrosecondsPerStep, 1),
                SimulatorCpuUsPerStep = Round(m.Use.SimulatorCpuMicrosecondsPerStep),
                WorkerCpuUsPerStepOutsideSimulator = Round(m.Use.OutsideSimulator),
                WorkerRssMeanMb = Math.Round(m.Use.RssMeanMb, 1), WorkerRssMaxMb = Math.Round(m.Use.RssMaxMb, 1),
                WorkersCores = Math.Round(m.Use.Cores, 3), GatewayProcessCores = Math.Round(m.Gateway.Process, 2),
                RedisCores = Math.Round(m.Gateway.Redis, 2),
            }));
        }
        return Serialize(new
        {
            Benchmark = "scale", Unit = "env_steps/s", StepCostUs = Settings.StepCostUs, StepCostMode = Settings.Mode.ToString().ToLowerInvariant(),
            EnvsPerWorker = Settings.EnvsPerWorker, Settings.Shards, Seconds = Settings.Duration.TotalSeconds,
            IdealEnvStepsPerSPerWorker = Math.Round(Settings.IdealPerWorker, 1), Points = points, Cores = Environment.ProcessorCount, Date = Today(),
        });
    }

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 1) : null;
}

/// <summary>
/// `distsac bench scale`: stored env steps/s against the number of real worker processes (each busy-waiting a simulated
/// step cost per env step), all pushing through one in-process gateway (rate limiter off) into S shards. Growth is
/// linear while the workers have cores of their own and the gateway and Redis keep up; where it flattens is the result.
/// </summary>
public static class ScaleBenchmark
{
    private static readonly int[] ScaleHidden = [256, 256];

    public static async Task<ScaleResult> RunAsync(ScaleSettings settings, CancellationToken ct)
    {
        var counts = settings.WorkerCounts;
        var kinds = settings.Workers;
        int cost = settings.StepCostUs, s = settings.Shards, envs = settings.EnvsPerWorker;
        var mode = settings.Mode;
        double idealPerWorker = settings.IdealPerWorker;

        var logs = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "distsac-bench-scale-" + Guid.NewGuid().ToString("N")[..12])).FullName;
        bool keepLogs = false;
        try
        {
            await using var redis = new RedisLauncher();
            var servers = await redis.StartAsync(s, ct);
            // This connection plays the learner: it creates the run, publishes the actor the workers follow, and counts.
            await using var replay = await BenchRun.CreateAsync("bench-scale", servers, 1_000_000, ct);
            var spec = EnvironmentRegistry.GetSpec(replay.Metadata!.EnvId);
            var actor = RandomActor.Create(spec, ScaleHidden, seed: 1, version: 1);
            await replay.PublishWeightsAsync(actor.Version, actor.ToBytes(), ct);
            var gatewayOptions = new GatewayOptions { Listen = "http://127.0.0.1:0", StatusLogIntervalMs = 0 };
            await using var gateway = await GatewayHost.StartAsync(gatewayOptions, replay.Options, loggerFactory: null, ct);
            Say($"scale: workers {string.Join(',', counts)} x {envs} env(s), {cost} us per step ({mode}; ideal {idealPerWorker:F0} env steps/s per worker), " +
                $"gateway {gateway.Address} -> {s} shard(s), {Environment.ProcessorCount} core(s); worker logs in {logs}");

            var measured = new List<ScalePoint>();
            var clock = Stopwatch.StartNew();
            int total = counts.Count * kinds.Count;
            foreach (int n in counts)
            {
                foreach (var kind in kinds)
                {
                    double rate;
                    CpuUse cpu;
                    WorkerUse use;
                    try
                    {
                        (rate, cpu, use) = await MeasureWorkersAsync(kind, gateway.Address, replay, servers, n, envs, cost, mode, settings.WarmUp, settings.Duration, logs, ct);
                    }
                    catch (InvalidOperationException)
                    {
                        keepLogs = true;
                        throw;
                    }
                    measured.Add(new ScalePoint(kind, n, rate, cpu, use));
                    Say($"scale: {n} {kind.Name} worker(s): {rate:F0} env steps/s ({rate / n:F0} per worker, ideal {idealPerWorker:F0}); " +
                        $"worker CPU {use.CpuMicrosecondsPerStep:F0} us per stored step{(use.SimulatorCpuMicrosecondsPerStep is { } sim ? $" ({use.CpuMicrosecondsPerStep - sim:F0} outside the simulator, which alone cost {sim:F0})" : "")}, worker RSS {use.RssMeanMb:F0} MB (max {use.RssMaxMb:F0}); " +
                        $"cores busy: workers {use.Cores:F3}, gateway process {cpu.Process:F2}, redis {cpu.Redis:F2}; " +
                        $"{measured.Count}/{total} done, ETA {ProgressText.Duration(clock.Elapsed.TotalSeconds / measured.Count * (total - measured.Count))}");
                }
            }
            return new ScaleResult(settings, measured);
        }
        finally
        {
            if (keepLogs) Say($"scale: a worker failed; its log is kept in {logs}");
            else TryDeleteDirectory(logs);
        }
    }

    /// <summary>
    /// Starts <paramref name="workers"/> worker processes, lets them warm up, measures stored transitions/s (one per env
    /// step) from the shards' insert counters, then SIGTERMs them (they flush) and waits for them to exit.
    /// </summary>
    private static async Task<(double Rate, CpuUse Cpu, WorkerUse Use)> MeasureWorkersAsync(WorkerExecutable executable, Uri gateway, ShardedReplay replay,
        IReadOnlyList<RedisLauncher.Server> servers, int workers, int envs, int stepCostUs,
        SimulatedCostMode mode, TimeSpan warm, TimeSpan duration, string logs, CancellationToken ct)
    {
        // The spawner's thread must outlive the children (its exit would SIGKILL them), so it is disposed after them.
        using var spawner = new ProcessSpawner();
        var children = new List<ChildProcess>(workers);
        try
        {
            for (int i = 0; i < workers; i++)
            {
                string id = $"scale-{executable.Name}-{workers}-{i}";
                var env = new Dictionary<string, string>
                {
                    ["DISTSAC_WORKER__GATEWAY"] = gateway.ToString(),
                    ["DISTSAC_WORKER__WORKERID"] = id,
                    ["DISTSAC_WORKER__ENVS"] = Inv(envs),
                    ["DISTSAC_WORKER__SIMULATEDSTEPCOSTMICROSECONDS"] = Inv(stepCostUs),
                    ["DISTSAC_WORKER__SIMULATEDSTEPCOSTMODE"] = mode.ToString(),
                };
                WorkerRuntimeEnvironment.AddTo(env); // as `distsac local` starts its workers
                children.Add(await spawner.StartAsync(id, executable.Path, executable.Arguments, env, Path.Combine(logs, id + ".log"), (_, _) => { }));
            }

            // Warm-up: until every worker of this round has stored something (process start and JIT of N processes take
            // a while on a loaded machine and would otherwise fall into the timed window), then `warm` more.
            var firstDeadline = Stopwatch.StartNew();
            string prefix = $"scale-{executable.Name}-{workers}-";
            while ((await replay.ReadWorkerTransitionsAsync(ct)).Count(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal) && kv.Value > 0) < workers)
            {
                EnsureRunning(children);
                if (firstDeadline.Elapsed > TimeSpan.FromSeconds(120))
                    throw new InvalidOperationException($"not all of {workers} worker(s) stored something within 120 s.");
                await Task.Delay(100, ct);
            }
            await Task.Delay(warm, ct);
            EnsureRunning(children);

            long inserted0 = (await replay.ReadStatsAsync(ct)).TotalInserted;
            var meter = CpuMeter.Start(servers);
            double workersCpu0 = children.Sum(c => ProcessCpuTime.Seconds(c.Pid));
            // The sleeping simulator alone, paced like one worker through the same window (spin mode would take a core).
            var simulator = mode == SimulatedCostMode.Sleep ? SimulatedStepCostProbe.Start(stepCostUs, envs, mode) : null;
            long started = Stopwatch.GetTimestamp();
            for (var end = duration; Stopwatch.GetElapsedTime(started) < end;)
            {
                var left = end - Stopwatch.GetElapsedTime(started);
                await Task.Delay(left < TimeSpan.FromMilliseconds(250) ? left : TimeSpan.FromMilliseconds(250), ct);
                EnsureRunning(children);
            }
            long inserted1 = (await replay.ReadStatsAsync(ct)).TotalInserted;
            double elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            double workersCpu = children.Sum(c => ProcessCpuTime.Seconds(c.Pid)) - workersCpu0;
            double? simulatorUs = simulator?.Stop();
            var rss = children.Select(c => ProcessMemory.ResidentMebibytes(c.Pid)).ToList();
            long stored = inserted1 - inserted0;
            // Everything a worker process spent per stored env step: actor, batching, gRPC, runtime threads, and the
            // (sleeping) simulated step's wake-ups; the environment's own dynamics are ~1 us of it (bench worker).
            var use = new WorkerUse(workersCpu / elapsed, stored > 0 ? workersCpu / stored * 1e6 : double.NaN, rss.Average(), rss.Max(), simulatorUs);
            return (stored / elapsed, meter.Stop(), use);
        }
        finally
        {
            // SIGTERM: each worker flushes its last batch (up to its 5 s shutdown-flush timeout), then exits; SIGKILL after 10 s.
            await Task.WhenAll(children.Select(c => c.StopAsync(TimeSpan.FromSeconds(10))));
            foreach (var c in children) await c.DisposeAsync();
        }
    }

    private static void EnsureRunning(IEnumerable<ChildProcess> children)
    {
        foreach (var c in children)
            if (c.HasExited) throw new InvalidOperationException($"{c.Name} (pid {c.Pid}) exited early with code {c.ExitCode}.");
    }

    /// <summary>Renders the curve (ScottPlot; log2 x, log10 y over a wide range), with the ideal and measured-linear lines.</summary>
    public static void PlotScale(string path, ScaleResult result)
    {
        var rates = result.Rates;
        var settings = result.Settings;
        path = Path.GetFullPath(path);
        string title = string.Create(CultureInfo.InvariantCulture,
            $"distsac bench scale: {settings.StepCostUs} us/step ({settings.Mode.ToString().ToLowerInvariant()}), {settings.EnvsPerWorker} env(s)/worker, {settings.Shards} shard(s), {Environment.ProcessorCount} core(s), {Today()}");
        // Workers beyond what the cores can run share them: the curve flattens there whatever the gateway and Redis can take.
        string? note = rates[^1].Workers <= Environment.ProcessorCount ? null
            : settings.Mode == SimulatedCostMode.Spin
                ? $"{Environment.ProcessorCount} cores: busy-wait workers beyond {Environment.ProcessorCount} share them"
                : $"{Environment.ProcessorCount} cores: the workers' own CPU (actor, batching, gRPC) is what runs out";
        try
        {
            ScalingPlot.Save(path, rates.Select(r => new ScalingPlot.Measurement(r.Workers, r.Rate)).ToList(), settings.IdealPerWorker, result.PerWorker, title, note);
            Say($"scale: plot written to {path}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or TypeInitializationException)
        {
            Say($"scale: no plot was written ({e.GetBaseException().Message}); the JSON line above has the data");
        }
    }
}
