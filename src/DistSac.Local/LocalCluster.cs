using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using DistSac.Processes;

namespace DistSac.Local;

/// <summary>
/// `distsac local`: S redis-server shards on free loopback ports, one gateway, one learner and N workers as child
/// processes of this one; merged, prefixed logs; a progress line; everything stopped on Ctrl-C, SIGTERM, when
/// training ends, or when a child dies (exit code non-zero, naming it).
/// </summary>
public sealed class LocalCluster
{
    private readonly LocalOptions _options;
    private readonly string _self;
    private readonly List<ChildProcess> _children = [];
    private readonly object _console = new();
    private string? _finalLine;
    // SuperviseAsync's answer to Ctrl-C / SIGTERM; the exit code is decided once every child has stopped.
    private const int Interrupted = -1;
    private static readonly TimeSpan GatewayListenTimeout = TimeSpan.FromSeconds(30);

    public LocalCluster(LocalOptions options, string selfExecutable)
    {
        options.Validate();
        _options = options;
        _self = selfExecutable;
    }

    /// <summary>Runs until training ends, a child fails or <paramref name="ct"/> is cancelled; returns the exit code.</summary>
    /// <param name="run">The created run directory (runs/&lt;id&gt;/, its id from --run-id or a new one).</param>
    /// <param name="ct">Ctrl-C or SIGTERM.</param>
    public async Task<int> RunAsync(LocalRunDirectory run, CancellationToken ct)
    {
        var runId = run.RunId;
        var resuming = _options.Persist && File.Exists(Path.Combine(run.Path, LocalRunSettings.FileName));
        var logs = Directory.CreateDirectory(Path.Combine(run.Path, "logs")).FullName;
        LocalRunSettings.Save(run.Path, _options with { RunId = runId, RunsRoot = Path.GetFullPath(_options.RunsRoot) });
        var scratch = _options.Persist ? Path.Combine(run.Path, "redis") : Path.Combine(Path.GetTempPath(), $"distsac-local-{runId}");
        Directory.CreateDirectory(scratch);
        using var secrets = LocalSecrets.Create();
        using var spawner = new ProcessSpawner();
        var probes = new RoleEndpoints(run.Path); // runs/<id>/endpoints.json, for `distsac status --run`
        int exitCode = 0;
        try
        {
            Say($"{(resuming ? "resuming run" : "run")} {runId}: {_options.Shards} shard(s){(_options.Persist ? " persisted in " + scratch : "")}, 1 gateway, 1 learner, {_options.Workers} worker(s); logs in {logs}");
            var shardEndpoints = new List<string>();
            for (int i = 0; i < _options.Shards; i++) shardEndpoints.Add(await StartRedisAsync(spawner, secrets, i, scratch, logs, ct));

            var common = new Dictionary<string, string> { ["DISTSAC_REPLAY__RUNID"] = runId, ["DISTSAC_REPLAY__CAPACITYPERSHARD"] = Inv(_options.CapacityPerShard) };
            for (int i = 0; i < shardEndpoints.Count; i++) common[$"DISTSAC_REPLAY__SHARDS__{i}"] = shardEndpoints[i];
            secrets.AddReplayPassword(common);

            var gatewayPort = LoopbackPorts.Next();
            var gatewayEnv = new Dictionary<string, string>(common)
            {
                ["DISTSAC_GATEWAY__LISTEN"] = $"http://127.0.0.1:{gatewayPort}",
                ["DISTSAC_GATEWAY__HTTPLISTEN"] = probes.Add("gateway", LoopbackPorts.Next()),
                // No rate-limit settings: the gateway reads the learner's from the run metadata.
            };
            secrets.AddGatewayToken(gatewayEnv);
            var gateway = await spawner.StartAsync("gateway", _self, ["replay"], gatewayEnv, Path.Combine(logs, "gateway.log"), Echo, _options.ChildNice);
            _children.Add(gateway);

            var learnerEnv = new Dictionary<string, string>(common)
            {
                ["DISTSAC_LEARNER__ENV"] = _options.Env,
                ["DISTSAC_LEARNER__STEPS"] = Inv(_options.Steps),
                ["DISTSAC_LEARNER__SEED"] = Inv(_options.Seed),
                ["DISTSAC_LEARNER__WARMUPTRANSITIONS"] = Inv(_options.WarmupTransitions),
                ["DISTSAC_LEARNER__UPDATESPERTRANSITION"] = Inv(_options.UpdatesPerTransition),
                ["DISTSAC_LEARNER__EVALINTERVAL"] = Inv(_options.EvalInterval),
                ["DISTSAC_LEARNER__RUNSROOT"] = Path.GetFullPath(_options.RunsRoot),
                ["DISTSAC_LEARNER__THREADS"] = Inv(_options.LearnerThreads),
                ["DISTSAC_LEARNER__HTTPLISTEN"] = probes.Add("learner", LoopbackPorts.Next()),
            };
            if (_options.StopAtEvalReturn is { } stop) learnerEnv["DISTSAC_LEARNER__STOPATEVALRETURN"] = Inv(stop);
            var learner = await spawner.StartAsync("learner", _self, ["learner"], learnerEnv, Path.Combine(logs, "learner.log"), Echo);
            _children.Add(learner);

            // Workers started before the gateway listens back off (100 ms doubling: the first contact came ~0.7 s after
            // the gateway was up and warned "not reachable" on every normal start); starting them once it accepts
            // connections lets their own start-up overlap the learner's, with nothing to retry.
            if (!await ListenerProbe.WaitUntilAcceptingAsync(gatewayPort, gateway, GatewayListenTimeout, ct) && !gateway.HasExited)
                Say($"the gateway does not accept connections on 127.0.0.1:{gatewayPort} after {GatewayListenTimeout.TotalSeconds:F0} s; starting the workers anyway (they retry)");

            for (int w = 0; w < _options.Workers; w++)
            {
                var workerEnv = new Dictionary<string, string>
                {
                    ["DISTSAC_WORKER__GATEWAY"] = $"http://127.0.0.1:{gatewayPort}",
                    ["DISTSAC_WORKER__WORKERID"] = $"worker-{w}",
                    ["DISTSAC_WORKER__ENVS"] = Inv(_options.EnvsPerWorker),
                    ["DISTSAC_WORKER__HTTPLISTEN"] = probes.Add($"worker-{w}", LoopbackPorts.Next()),
                };
                WorkerRuntimeEnvironment.AddTo(workerEnv);
                secrets.AddWorkerToken(workerEnv);
                _children.Add(await spawner.StartAsync($"worker-{w}", _self, ["worker"], workerEnv, Path.Combine(logs, $"worker-{w}.log"), Echo, _options.ChildNice));
            }

            exitCode = await SuperviseAsync(learner, run, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            exitCode = Interrupted;
        }
        finally
        {
            var learnerExit = await StopAllAsync();
            if (exitCode == Interrupted) exitCode = StoppedExitCode(learnerExit);
            if (!_options.Persist) TryDelete(scratch);
        }
        if (exitCode == 0) Say(ct.IsCancellationRequested ? $"stopped; the learner's checkpoint is in {run.CheckpointDirectory}" : _finalLine ?? "training finished");
        Say($"run directory: {run.Path}");
        return exitCode;
    }

    /// <summary>Waits for the learner to finish; any other child exiting first is a failure.</summary>
    private async Task<int> SuperviseAsync(ChildProcess learner, LocalRunDirectory run, CancellationToken ct)
    {
        var nextProgress = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            if (ct.IsCancellationRequested) { Say("stop requested: stopping every child (the learner writes its checkpoint)"); return Interrupted; }
            foreach (var child in _children)
            {
                if (!child.HasExited || child.StopRequested) continue;
                if (child == learner)
                {
                    if (child.ExitCode == 0) return 0;
                    Say($"error: the learner exited with code {child.ExitCode}; see its log");
                    return 1;
                }
                Say($"error: {child.Name} (pid {child.Pid}) exited unexpectedly with code {child.ExitCode}; stopping everything");
                return 1;
            }
            if (DateTime.UtcNow >= nextProgress)
            {
                if (ProgressLine(run) is { } line) Say(line);
                nextProgress = DateTime.UtcNow.AddSeconds(5);
            }
            try { await Task.Delay(200, ct); } catch (OperationCanceledException) { }
        }
    }

    /// <summary>Stops every child; returns the learner's exit code (null when it never started).</summary>
    private async Task<int?> StopAllAsync()
    {
        // Workers first (they flush their last batch), then learner, gateway, and the shards last.
        foreach (var group in new Func<ChildProcess, bool>[] { c => c.Name.StartsWith("worker", StringComparison.Ordinal), c => c.Name == "learner", c => c.Name == "gateway", c => true })
        {
            var stopping = new List<Task>();
            foreach (var c in _children) if (group(c) && !c.StopRequested) stopping.Add(c.StopAsync(TimeSpan.FromSeconds(c.Name == "learner" ? 60 : 10)));
            await Task.WhenAll(stopping);
        }
        int? learnerExit = null;
        foreach (var c in _children)
        {
            if (c.Name == "learner" && c.HasExited) learnerExit = c.ExitCode;
            await c.DisposeAsync();
        }
        return learnerExit;
    }

    /// <summary>Ctrl-C or SIGTERM is a normal end (exit 0) when the learner stopped cleanly, i.e. with its checkpoint written.</summary>
    private int StoppedExitCode(int? learnerExit)
    {
        if (learnerExit is null or 0) return 0;
        Say($"error: the learner exited with code {learnerExit} while stopping; see its log");
        return 1;
    }

    private async Task<string> StartRedisAsync(ProcessSpawner spawner, LocalSecrets secrets, int index, string scratch, string logs, CancellationToken ct)
    {
        var redis = await RedisProcess.StartAsync(spawner, new RedisProcessSettings
        {
            Name = $"redis-{index}",
            Executable = _options.RedisServer,
            Directory = Path.Combine(scratch, $"shard-{index}"),
            LogPath = Path.Combine(logs, $"redis-{index}.log"),
            // The config file (first argument) carries requirepass, so the password is not in this process's argv.
            ConfigFile = secrets.RedisConfig,
            Password = secrets.RedisPassword,
            // Persisted shards: the AOF is written before each reply and fsynced every second, and replayed on --resume.
            AppendOnly = _options.Persist,
            // A resumed shard answers LOADING until its AOF is replayed: give a large one time.
            StartTimeout = TimeSpan.FromSeconds(_options.Persist ? 120 : 10),
        }, ct);
        _children.Add(redis.Child);
        return redis.Endpoint;
    }

    private string? ProgressLine(LocalRunDirectory run)
    {
        if (!File.Exists(run.MetricsPath)) return null;
        string? last = null;
        using (var reader = new StreamReader(new FileStream(run.MetricsPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)))
            while (reader.ReadLine() is { } l) if (l.Length > 0) last = l;
        if (last is null) return null;
        try
        {
            using var doc = JsonDocument.Parse(last);
            var r = doc.RootElement;
            double D(string k) => r.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;
            var eval = double.IsNaN(D("eval_return")) ? "-" : D("eval_return").ToString("F1", CultureInfo.InvariantCulture);
            return string.Create(CultureInfo.InvariantCulture,
                $"progress: env steps {ProgressText.OfTotal(D("env_steps"), _options.Steps, D("env_steps_per_s"))} | {D("env_steps_per_s"):F0} env steps/s | {D("updates_per_s"):F0} updates/s | replay fill {D("replay_fill"):F0} | staleness {D("staleness_mean"):F0} mean, {D("staleness_max"):F0} max | eval {eval}");
        }
        catch (JsonException) { return null; }
    }

    private void Echo(string name, string line)
    {
        if (line.StartsWith("final deterministic evaluation", StringComparison.Ordinal)) _finalLine = line;
        lock (_console) Console.WriteLine($"[{name}] {line}");
    }

    /// <summary>A line of the orchestrator's own, "[local] ...", in order with the children's echoed lines.</summary>
    public void Say(string line)
    {
        lock (_console) Console.WriteLine($"[local] {line}");
    }


    private static string Inv(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
