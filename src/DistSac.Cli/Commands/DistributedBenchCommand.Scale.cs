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
        var command = new Command("scale", "Stored env steps/s against worker processes (real `distsac worker`s through an in-process gateway), with scaling efficiency.")
        {
            workersList, stepCost, costMode, seconds, shards, envsPerWorker, warmUp, plot,
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

                var rates = new List<(int Workers, double Rate)>();
                var cpus = new List<(CpuUse Gateway, double Workers)>();
                var clock = System.Diagnostics.Stopwatch.StartNew();
                foreach (int n in counts)
                {
                    double rate;
                    CpuUse cpu;
                    double workersCpu;
                    try
                    {
                        (rate, cpu, workersCpu) = await MeasureWorkersAsync(self, gateway.Address, replay, servers, n, envs, cost, mode, warm, duration, logs, ct);
                    }
                    catch (InvalidOperationException)
                    {
                        keepLogs = true;
                        throw;
                    }
                    rates.Add((n, rate));
                    cpus.Add((cpu, workersCpu));
                    Say($"scale: {n} worker(s): {rate:F0} env steps/s ({rate / n:F0} per worker, ideal {idealPerWorker:F0}); " +
                        $"cores busy: workers {workersCpu:F2}, gateway process {cpu.Process:F2}, redis {cpu.Redis:F2}; " +
                        $"{rates.Count}/{counts.Length} counts done, ETA {ProgressLine.Duration(clock.Elapsed.TotalSeconds / rates.Count * (counts.Length - rates.Count))}");
                }

                // rate(1) is the per-worker baseline; a list without 1 uses its smallest count's per-worker rate instead.
                double perWorker = rates[0].Rate / rates[0].Workers;
                var points = rates.Select((r, i) => new
                {
                    r.Workers, EnvStepsPerS = Math.Round(r.Rate, 1),
                    Efficiency = perWorker > 0 ? Math.Round(r.Rate / (r.Workers * perWorker), 3) : (double?)null,
                    WorkersCores = Math.Round(cpus[i].Workers, 2), GatewayProcessCores = Math.Round(cpus[i].Gateway.Process, 2),
                    RedisCores = Math.Round(cpus[i].Gateway.Redis, 2),
                }).ToArray();
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
    private static async Task<(double Rate, CpuUse Cpu, double WorkersCores)> MeasureWorkersAsync(string self, Uri gateway, ShardedReplay replay,
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
                string id = $"scale-{workers}-{i}";
                var env = new Dictionary<string, string>
                {
                    ["DISTSAC_WORKER__GATEWAY"] = gateway.ToString(),
                    ["DISTSAC_WORKER__WORKERID"] = id,
                    ["DISTSAC_WORKER__ENVS"] = Inv(envs),
                    ["DISTSAC_WORKER__SIMULATEDSTEPCOSTMICROSECONDS"] = Inv(stepCostUs),
                    ["DISTSAC_WORKER__SIMULATEDSTEPCOSTMODE"] = mode.ToString(),
                    // As `distsac local` does: a smaller gen-0 budget keeps each worker's RSS down.
                    ["DOTNET_GCgen0size"] = "0x400000",
                };
                children.Add(await spawner.StartAsync(id, self, ["worker"], env, Path.Combine(logs, id + ".log"), (_, _) => { }));
            }

            // Warm-up: until every worker of this round has stored something (process start and JIT of N processes take
            // a while on a loaded machine and would otherwise fall into the timed window), then `warm` more.
            var firstDeadline = Stopwatch.StartNew();
            string prefix = $"scale-{workers}-";
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
            long started = Stopwatch.GetTimestamp();
            for (var end = duration; Stopwatch.GetElapsedTime(started) < end;)
            {
                var left = end - Stopwatch.GetElapsedTime(started);
                await Task.Delay(left < TimeSpan.FromMilliseconds(250) ? left : TimeSpan.FromMilliseconds(250), ct);
                EnsureRunning(children);
            }
            long inserted1 = (await replay.ReadStatsAsync(ct)).TotalInserted;
            double elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            double workersCores = (children.Sum(c => ProcessCpuTime.Seconds(c.Pid)) - workersCpu0) / elapsed;
            return ((inserted1 - inserted0) / elapsed, meter.Stop(), workersCores);
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
}
