using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using DistSac.Cli.Local;
using DistSac.Envs;
using DistSac.Gateway;
using DistSac.Plots;
using DistSac.Replay;
using DistSac.Worker;

namespace DistSac.Cli.Commands;

/// <summary>
/// `distsac bench scale`: stored env steps/s against the number of real worker processes (each busy-waiting a simulated
/// step cost per env step), all pushing through one in-process gateway (rate limiter off) into S shards. Growth is
/// linear while the workers have cores of their own and the gateway and Redis keep up; where it flattens is the result.
/// </summary>
public static partial class DistributedBenchCommand
{
    private static readonly int[] ScaleHidden = [256, 256];

    private static Command Scale()
    {
        var workersList = Opt("--workers-list", "1,2,4,8,16,32", "Comma-separated worker-process counts, measured one after another (ascending).");
        var stepCost = Opt("--step-cost-us", 2000, "Simulated simulator cost per env step per env, in microseconds.");
        var costMode = Opt("--step-cost-mode", "sleep", "sleep: the simulator runs elsewhere and uses no CPU in the worker (isolates gateway/Redis limits on a small machine); spin: busy-wait in the worker (workers compete for cores).");
        var seconds = Opt("--seconds", 10.0, "Timed duration of each worker count's measurement.");
        var shards = Opt("--shards", 1, "redis-server shards (S).");
        var envsPerWorker = Opt("--envs-per-worker", 1, "Environments each worker steps.");
        var warmUp = Opt("--warm-up-seconds", 2.0, "Untimed running after the workers start (and after the first stored transition).");
        var plot = new Option<string?>("--plot") { Description = "Also write a PNG plot here." };
        var aotWorker = new Option<string?>("--aot-worker")
        {
            Description = "Also measure every count with this Native AOT distsac-worker executable (dotnet publish src/DistSac.Worker.Host), right after the `distsac worker` (JIT) measurement.",
        };
        var command = new Command("scale", "Stored env steps/s against worker processes (real `distsac worker`s through an in-process gateway), with scaling efficiency.")
        {
            workersList, stepCost, costMode, seconds, shards, envsPerWorker, warmUp, plot, aotWorker,
        };
        command.SetAction(async (parse, ct) =>
        {
            var counts = ParseWorkerCounts(parse.GetValue(workersList));
            int cost = Positive(parse.GetValue(stepCost), "--step-cost-us"), s = Positive(parse.GetValue(shards), "--shards");
            int envs = Positive(parse.GetValue(envsPerWorker), "--envs-per-worker");
            var mode = Enum.TryParse<SimulatedCostMode>(parse.GetValue(costMode), ignoreCase: true, out var m) && Enum.IsDefined(m)
                ? m : throw new ArgumentException($"--step-cost-mode must be sleep or spin (got '{parse.GetValue(costMode)}').");
            var duration = Seconds(parse.GetValue(seconds), "--seconds");
            var warm = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(warmUp)));
            var plotPath = parse.GetValue(plot);
            var self = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find the distsac executable's path.");
            var kinds = new List<WorkerExecutable> { new("jit", self, ["worker"]) };
            if (parse.GetValue(aotWorker) is { } aotPath)
            {
                aotPath = Path.GetFullPath(aotPath);
                if (!File.Exists(aotPath)) throw new FileNotFoundException($"--aot-worker {aotPath} does not exist: publish it with dotnet publish src/DistSac.Worker.Host -c Release -r linux-x64 -o DIR.", aotPath);
                kinds.Add(new("aot", aotPath, []));
            }
            // Env steps run one after another, each costing `cost`: the ceiling per worker does not depend on the env count.
            double idealPerWorker = 1e6 / cost;

            var logs = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "distsac-bench-scale-" + Guid.NewGuid().ToString("N")[..12])).FullName;
            bool keepLogs = false;
            try
            {
                await using var redis = new RedisLauncher();
                var servers = await redis.StartAsync(s, ct);
                // This connection plays the learner: it creates the run, publishes the actor the workers follow, and counts.
                await using var replay = await CreateRunAsync("bench-scale", servers, 1_000_000, ct);
                var spec = EnvironmentRegistry.GetSpec(replay.Metadata!.EnvId);
                var actor = RandomActor.Create(spec, ScaleHidden, seed: 1, version: 1);
                await replay.PublishWeightsAsync(actor.Version, actor.ToBytes(), ct);
                var gatewayOptions = new GatewayOptions { Listen = "http://127.0.0.1:0", StatusLogIntervalMs = 0 };
                await using var gateway = await GatewayHost.StartAsync(gatewayOptions, replay.Options, loggerFactory: null, ct);
                Say($"scale: workers {string.Join(',', counts)} x {envs} env(s), {cost} us per step ({mode}; ideal {idealPerWorker:F0} env steps/s per worker), " +
                    $"gateway {gateway.Address} -> {s} shard(s), {Environment.ProcessorCount} core(s); worker logs in {logs}");

                var measured = new List<(WorkerExecutable Kind, int Workers, double Rate, CpuUse Gateway, WorkerUse Use)>();
                var clock = System.Diagnostics.Stopwatch.StartNew();
                int total = counts.Length * kinds.Count;
                foreach (int n in counts)
                {
                    foreach (var kind in kinds)
                    {
                        double rate;
                        CpuUse cpu;
                        WorkerUse use;
                        try
                        {
                            (rate, cpu, use) = await MeasureWorkersAsync(kind, gateway.Address, replay, servers, n, envs, cost, mode, warm, duration, logs, ct);
                        }
                        catch (InvalidOperationException)
                        {
                            keepLogs = true;
                            throw;
                        }
                        measured.Add((kind, n, rate, cpu, use));
                        Say($"scale: {n} {kind.Name} worker(s): {rate:F0} env steps/s ({rate / n:F0} per worker, ideal {idealPerWorker:F0}); " +
                            $"worker CPU {use.CpuMicrosecondsPerStep:F0} us per stored step{(use.SimulatorCpuMicrosecondsPerStep is { } sim ? $" ({use.CpuMicrosecondsPerStep - sim:F0} outside the simulator, which alone cost {sim:F0})" : "")}, worker RSS {use.RssMeanMb:F0} MB (max {use.RssMaxMb:F0}); " +
                            $"cores busy: workers {use.Cores:F3}, gateway process {cpu.Process:F2}, redis {cpu.Redis:F2}; " +
                            $"{measured.Count}/{total} done, ETA {ProgressLine.Duration(clock.Elapsed.TotalSeconds / measured.Count * (total - measured.Count))}");
                    }
                }

                // Per kind, rate(1) is the per-worker baseline; a list without 1 uses its smallest count's per-worker rate instead.
                var points = new List<object>();
                double perWorker = 0;
                var rates = new List<(int Workers, double Rate)>();
                foreach (var kind in kinds)
                {
                    var own = measured.Where(m => m.Kind == kind).ToList();
                    double baseline = own[0].Rate / own[0].Workers;
                    if (kind == kinds[0])
                    {
                        perWorker = baseline;
                        rates.AddRange(own.Select(m => (m.Workers, m.Rate)));
                    }
                    points.AddRange(own.Select(m => new
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
                Print(new
                {
                    Benchmark = "scale", Unit = "env_steps/s", StepCostUs = cost, StepCostMode = mode.ToString().ToLowerInvariant(), EnvsPerWorker = envs, Shards = s, Seconds = duration.TotalSeconds,
                    IdealEnvStepsPerSPerWorker = Math.Round(idealPerWorker, 1), Points = points, Cores = Environment.ProcessorCount, Date = Today(),
                });
                if (plotPath is not null) PlotScale(plotPath, rates, perWorker, idealPerWorker, cost, mode, envs, s);
                return 0;
            }
            finally
            {
                if (keepLogs) Say($"scale: a worker failed; its log is kept in {logs}");
                else TryDelete(logs);
            }
        });
        return command;
    }

    private static int[] ParseWorkerCounts(string? list)
    {
        var counts = new SortedSet<int>();
        foreach (var part in (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < 1 || n > 1024)
                throw new ArgumentException($"--workers-list entries must be integers in [1, 1024] (got '{part}').");
            counts.Add(n);
        }
        return counts.Count > 0 ? [.. counts] : throw new ArgumentException("--workers-list is empty.");
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
                    // As `distsac local` does: a smaller gen-0 budget keeps each worker's RSS down.
                    ["DOTNET_GCgen0size"] = "0x400000",
                    // As `distsac local` does: without PGO's instrumented tier the JIT stops compiling once the loop is hot
                    // (with it, its thread used ~1.3 s of CPU per 20 s of a 1-env worker); no background GC thread.
                    ["DOTNET_TieredPGO"] = "0",
                    ["DOTNET_gcConcurrent"] = "0",
                };
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
    private static void PlotScale(string path, IReadOnlyList<(int Workers, double Rate)> rates, double perWorker, double idealPerWorker,
        int stepCostUs, SimulatedCostMode mode, int envs, int shards)
    {
        path = Path.GetFullPath(path);
        string title = string.Create(CultureInfo.InvariantCulture,
            $"distsac bench scale: {stepCostUs} us/step ({mode.ToString().ToLowerInvariant()}), {envs} env(s)/worker, {shards} shard(s), {Environment.ProcessorCount} core(s), {Today()}");
        // Workers beyond what the cores can run share them: the curve flattens there whatever the gateway and Redis can take.
        string? note = rates[^1].Workers <= Environment.ProcessorCount ? null
            : mode == SimulatedCostMode.Spin
                ? $"{Environment.ProcessorCount} cores: busy-wait workers beyond {Environment.ProcessorCount} share them"
                : $"{Environment.ProcessorCount} cores: the workers' own CPU (actor, batching, gRPC) is what runs out";
        try
        {
            ScalingPlot.Save(path, rates.Select(r => new ScalingPlot.Measurement(r.Workers, r.Rate)).ToList(), idealPerWorker, perWorker, title, note);
            Say($"scale: plot written to {path}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or TypeInitializationException)
        {
            Say($"scale: no plot was written ({e.GetBaseException().Message}); the JSON line above has the data");
        }
    }

    /// <summary>A worker program: `distsac worker` (JIT) or the Native AOT distsac-worker.</summary>
    private sealed record WorkerExecutable(string Name, string Path, IReadOnlyList<string> Arguments);

    /// <summary>The workers' CPU in the timed window (cores, and CPU microseconds per stored env step) and their RSS at its end.</summary>
    /// <param name="SimulatorCpuMicrosecondsPerStep">The sleeping simulator alone (SimulatedStepCostProbe), per env step; null when not measured.</param>
    private sealed record WorkerUse(double Cores, double CpuMicrosecondsPerStep, double RssMeanMb, double RssMaxMb, double? SimulatorCpuMicrosecondsPerStep)
    {
        /// <summary>Worker CPU per stored step less the simulator's own: actor, batching, gRPC and the runtime.</summary>
        public double? OutsideSimulator => CpuMicrosecondsPerStep - SimulatorCpuMicrosecondsPerStep;
    }

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 1) : null;
}
