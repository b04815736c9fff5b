using System.CommandLine;
using DistSac.Cli.Configuration;
using DistSac.Envs;
using DistSac.Learning.Training;
using DistSac.Local;
using DistSac.Settings;

namespace DistSac.Cli.Commands;

/// <summary>`distsac local`: the embedded default (what `make run` starts).</summary>
public static class LocalCommand
{
    public static Command Create()
    {
        var flags = new List<ConfigFlag>
        {
            new("--workers", "Local:Workers", "Worker processes (default 2).", typeof(int)),
            new("--shards", "Local:Shards", "redis-server shards (default 1).", typeof(int)),
            new("--env", "Local:Env", "Environment id (default Pendulum-v1).", typeof(string)),
            new("--steps", "Local:Steps", "Env steps to train for (default 20000).", typeof(long)),
            new("--seed", "Local:Seed", "Run seed.", typeof(long)),
            new("--envs-per-worker", "Local:EnvsPerWorker", "Vectorized environments per worker (default 1).", typeof(int)),
            new("--warmup", "Local:WarmupTransitions", "Uniform-random transitions before the first update (default 1000).", typeof(long)),
            new("--updates-per-transition", "Local:UpdatesPerTransition", "Rate limiter ratio (default 1; 0 disables).", typeof(double)),
            new("--capacity-per-shard", "Local:CapacityPerShard", "Replay capacity per shard in transitions.", typeof(long)),
            new("--eval-interval", "Local:EvalInterval", "Updates between evaluations (default 2000).", typeof(long)),
            new("--stop-at-eval-return", "Local:StopAtEvalReturn", "Stop once an evaluation reaches this mean return.", typeof(double)),
            new("--runs-root", "Local:RunsRoot", "Folder for run directories (default runs).", typeof(string)),
            new("--run-id", "Local:RunId", "Run id (default env-seed-time).", typeof(string)),
            new("--learner-threads", "Local:LearnerThreads", "Torch threads of the learner (0 = all cores).", typeof(int)),
            new("--child-nice", "Local:ChildNice", "Added to the nice value of workers and gateway, 0-19 (default 0: the learner's CPU priority).", typeof(int)),
            new("--redis-server", "Local:RedisServer", "redis-server executable (default: from PATH).", typeof(string)),
            new("--persist", "Local:Persist", "Keep Redis data (appendonly) in the run directory, so the run can be continued with --resume.", typeof(bool)),
        };
        var config = CommonFlags.ConfigFile();
        var resume = new Option<string>("--resume") { Description = "Continue a run started with --persist: its shards' data, the learner's checkpoint, new workers (e.g. runs/<id>)." };
        var command = new Command("local", "Run shards, gateway, learner and workers as child processes on this machine.") { config, resume };
        foreach (var f in flags) command.Options.Add(f.Option);
        command.SetAction(async (parse, ct) =>
        {
            var overrides = new Dictionary<string, string?>();
            ConfigFlag.Collect(parse, flags, overrides);
            var resumePath = parse.GetValue(resume);
            var options = resumePath is null ? Bind(parse.GetValue(config), overrides) : ResumeOptions(resumePath, parse.GetValue(config), overrides);
            EnvironmentRegistry.GetSpec(options.Env);
            Console.WriteLine($"{EnvironmentDefaults.Describe(options.Env, "Learner")}; this run: {options.Steps} learner steps (--steps)");
            var self = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find the distsac executable's path.");
            var cluster = new LocalCluster(options, self);
            var runId = options.RunId ?? RunDirectory.NewRunId(options.Env, options.Seed);
            var run = RunDirectory.Create(options.RunsRoot, runId);
            int exitCode = await cluster.RunAsync(new LocalRunDirectory(runId, run.Path, run.MetricsPath, run.CheckpointDirectory), ct);
            PlotCommand.TryWriteCurve(run.Path, cluster.Say);
            return exitCode;
        });
        return command;
    }

    /// <summary>Binds "Local" with the chosen environment's defaults underneath (e.g. MountainCar's 50k steps).</summary>
    private static LocalOptions Bind(string? configFile, Dictionary<string, string?> overrides)
    {
        // The environment can come from any layer, so read it first, then bind again with its defaults below all layers.
        var envId = DistSacConfiguration.Bind<LocalOptions>(DistSacConfiguration.Build(configFile, new Dictionary<string, string?>(), overrides), "Local").Env;
        return DistSacConfiguration.Bind<LocalOptions>(DistSacConfiguration.Build(configFile, EnvironmentDefaults.For(envId, "Local"), overrides), "Local");
    }

    /// <summary>The stored settings of the run, with this command line's flags on top (e.g. more --steps).</summary>
    private static LocalOptions ResumeOptions(string resumePath, string? configFile, Dictionary<string, string?> overrides)
    {
        if (configFile is not null) throw new ConfigurationException("--resume takes the run's stored settings; --config cannot be combined with it (pass single flags instead).");
        var runPath = Path.GetFullPath(resumePath.TrimEnd('/'));
        var stored = LocalRunSettings.ForResume(runPath);
        var options = Bind(stored, overrides) with
        {
            RunsRoot = Path.GetDirectoryName(runPath)!,
            RunId = Path.GetFileName(runPath),
            Persist = true,
        };
        LocalRunSettings.CheckUnchanged(LocalRunSettings.Read(stored), options);
        return options;
    }
}
