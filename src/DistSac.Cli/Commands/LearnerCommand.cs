using System.CommandLine;
using System.Globalization;
using DistSac.Cli.Configuration;
using DistSac.Envs;
using DistSac.Learner;
using DistSac.Observability;
using DistSac.Replay;
using Microsoft.Extensions.Logging;

namespace DistSac.Cli.Commands;

/// <summary>`distsac learner`: the distributed learner (samples from Redis, updates, publishes weights).</summary>
public static class LearnerCommand
{
    public static Command Create()
    {
        var flags = new List<ConfigFlag>
        {
            new("--env", "Learner:Env", "Environment id (default Pendulum-v1).", typeof(string)),
            new("--steps", "Learner:Steps", "Env steps (stored transitions) to train for.", typeof(long)),
            new("--seed", "Learner:Seed", "Run seed (networks, sampling; workers derive theirs from it).", typeof(long)),
            new("--warmup", "Learner:WarmupTransitions", "Run-wide uniform-random transitions before the first update.", typeof(long)),
            new("--updates-per-transition", "Learner:UpdatesPerTransition", "Rate limiter ratio (1 = one update per env step; 0 disables); written into the run metadata, gateways hold pushes by it.", typeof(double)),
            new("--rate-limit-tolerance", "Learner:RateLimitTolerance", "Updates either side may run ahead of the ratio (gateways read it from the run metadata too).", typeof(double)),
            new("--publish-every", "Learner:PublishEvery", "Publish actor weights every K updates.", typeof(int)),
            new("--eval-interval", "Learner:EvalInterval", "Updates between deterministic evaluations.", typeof(long)),
            new("--eval-episodes", "Learner:EvalEpisodes", "Episodes per evaluation.", typeof(int)),
            new("--log-interval", "Learner:LogInterval", "Updates between metrics lines.", typeof(long)),
            new("--checkpoint-interval", "Learner:CheckpointInterval", "Updates between checkpoints (0 = only at the end).", typeof(long)),
            new("--runs-root", "Learner:RunsRoot", "Folder for run directories.", typeof(string)),
            new("--device", "Learner:Device", "auto, cpu or cuda.", typeof(string)),
            new("--http-listen", "Learner:HttpListen", "HTTP address for /healthz, /readyz and /metrics, e.g. http://127.0.0.1:9091, or http://0.0.0.0:9091 for a scraper on another machine (default off).", typeof(string)),
            new("--threads", "Learner:Threads", "Torch CPU threads (0 = all cores).", typeof(int)),
            new("--stop-at-eval-return", "Learner:StopAtEvalReturn", "Stop once an evaluation reaches this mean return.", typeof(double)),
            new("--prefetch-depth", "Learner:PrefetchDepth", "Sampled batches kept ready (Learner:Sampling = redis).", typeof(int)),
            new("--prefetch-parallelism", "Learner:PrefetchParallelism", "Concurrent sampling loops (Learner:Sampling = redis).", typeof(int)),
            new("--sampling", "Learner:Sampling", "mirror (a copy of the replay in the learner's memory, default) or redis (one Redis round trip per batch, for replays larger than the learner's RAM).", typeof(string)),
            new("--run-id", "Replay:RunId", "Run id: Redis key namespace and run directory name.", typeof(string)),
            new("--capacity-per-shard", "Replay:CapacityPerShard", "Ring capacity of each shard in transitions.", typeof(long)),
            SecretFlags.RedisPasswordFile(),
        };
        flags.AddRange(CommonFlags.Sac());
        var config = CommonFlags.ConfigFile();
        var hidden = CommonFlags.Hidden();
        var shards = CommonFlags.Shards();
        var command = new Command("learner", "Run the distributed learner against Redis shards.") { config, hidden, shards };
        foreach (var f in flags) command.Options.Add(f.Option);
        command.Options.Add(SecretFlags.RefusedRedisPassword());
        command.SetAction(async (parse, ct) =>
        {
            var overrides = new Dictionary<string, string?>();
            ConfigFlag.Collect(parse, flags, overrides);
            CommonFlags.CollectLists(parse, hidden, shards, overrides);
            var envId = overrides.GetValueOrDefault("Learner:Env") ?? Environment.GetEnvironmentVariable("DISTSAC_LEARNER__ENV") ?? new LearnerOptions().Env;
            EnvironmentRegistry.GetSpec(envId);
            var configuration = DistSacConfiguration.Build(parse.GetValue(config), EnvironmentDefaults.For(envId, "Learner"), overrides);
            var options = DistSacConfiguration.Bind<LearnerOptions>(configuration, "Learner");
            var sac = CommonFlags.BindSac(configuration);
            var replay = DistSacConfiguration.Bind<ReplayOptions>(configuration, "Replay");
            if (CommonFlags.BindList(configuration, "Replay:Shards") is { } list) replay = replay with { Shards = list };

            using var loggerFactory = RoleLogging.Create("learner");
            var logger = loggerFactory.CreateLogger("learner");
            var learner = new DistributedLearner(options, sac, replay, logger, m => Console.WriteLine(Format(m)));
            LearnerResult result;
            try
            {
                result = await learner.RunAsync(ct);
            }
            catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or ReplayUnavailableException)
            {
                // Stopped while starting (connecting, loading): no update was made, so there is nothing new to save.
                logger.LogInformation("Stopped before training started");
                return 0;
            }
            if (result.FinalEvaluation is { } final)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"final deterministic evaluation over {final.Episodes} episodes: mean {final.MeanReturn:F1} std {final.StdReturn:F1}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(result.Stopped ? "stopped: " : "")}{result.EnvSteps} env steps, {result.Updates} updates in {result.Seconds:F1} s; run directory: {result.RunDirectory}"));
            if (!result.CheckpointSaved)
            {
                await Console.Error.WriteLineAsync($"error: the final checkpoint could not be written to {result.RunDirectory}/checkpoint (see the log); the last one written before is kept");
                return 1;
            }
            // A stop (SIGTERM on every Kubernetes rollout, Ctrl-C) with its checkpoint written is a normal end: exit 0.
            return 0;
        });
        return command;
    }

    internal static string Format(LearnerMetrics m) => string.Create(CultureInfo.InvariantCulture,
        $"updates {m.Updates,7} | env steps {m.EnvSteps,7} | {m.UpdatesPerS,5:F0} upd/s | {m.EnvStepsPerS,6:F0} steps/s | workers {m.WorkersActive} | fill {m.ReplayFill} | stale {m.StalenessMean:F0}/{m.StalenessMax} | eval {(m.EvalReturn is { } e ? e.ToString("F1", CultureInfo.InvariantCulture) : "-")} | alpha {m.Alpha:F3}");
}
