using System.CommandLine;
using System.Globalization;
using DistSac.Cli.Configuration;
using DistSac.Envs;
using DistSac.Learning;
using DistSac.Learning.Training;
using DistSac.Policy;
using DistSac.Local;

namespace DistSac.Cli.Commands;

/// <summary>`distsac train`: SAC in one process with an in-memory replay.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var flags = new List<ConfigFlag>
        {
            new("--env", "Train:Env", "Environment id, e.g. Pendulum-v1 or MountainCarContinuous-v0.", typeof(string)),
            new("--steps", "Train:Steps", "Environment steps to train for (Pendulum-v1 default 20000).", typeof(long)),
            new("--seed", "Train:Seed", "Seed for environments, networks and sampling.", typeof(long)),
            new("--learning-starts", "Train:LearningStarts", "Uniform-random steps before the first update (default 100).", typeof(long)),
            new("--updates-per-step", "Train:UpdatesPerStep", "Gradient steps per environment step (default 1).", typeof(int)),
            new("--replay-capacity", "Train:ReplayCapacity", "Replay buffer capacity in transitions (default 1e6).", typeof(int)),
            new("--eval-interval", "Train:EvalInterval", "Env steps between deterministic evaluations (default 2000).", typeof(long)),
            new("--eval-episodes", "Train:EvalEpisodes", "Episodes per evaluation (default 10).", typeof(int)),
            new("--log-interval", "Train:LogInterval", "Env steps between metrics lines (default 500).", typeof(long)),
            new("--runs-root", "Train:RunsRoot", "Folder for run directories (default runs).", typeof(string)),
            new("--run-id", "Train:RunId", "Run directory name (default: env-seed-time).", typeof(string)),
            new("--device", "Train:Device", "auto (CUDA when available), cpu or cuda.", typeof(string)),
            new("--threads", "Train:Threads", "Torch CPU threads (0 = all cores).", typeof(int)),
            new("--stop-at-eval-return", "Train:StopAtEvalReturn", "Stop once a deterministic evaluation reaches this mean return.", typeof(double)),
            new("--exploration-noise", "Train:ExplorationNoise", "white (independent Gaussian) or ou (Ornstein-Uhlenbeck, temporally correlated); default per environment.", typeof(string)),
            new("--noise-correlation-steps", "Train:NoiseCorrelationSteps", "Correlation time of ou noise in env steps (default 15).", typeof(double)),
        };
        flags.AddRange(CommonFlags.Sac());
        var configOption = new Option<string>("--config") { Description = "JSON configuration file (sections Train and Sac)." };
        var hiddenOption = CommonFlags.Hidden();
        var command = new Command("train", "Train SAC in one process (in-memory replay) and write runs/<id>/.");
        command.Options.Add(configOption);
        command.Options.Add(hiddenOption);
        foreach (var f in flags) command.Options.Add(f.Option);

        command.SetAction((parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>();
            ConfigFlag.Collect(parse, flags, overrides);
            if (parse.GetValue(hiddenOption) is { } hidden)
            {
                var parts = hidden.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                for (int i = 0; i < parts.Length; i++) overrides[$"Sac:HiddenSizes:{i}"] = parts[i];
            }
            var envId = overrides.GetValueOrDefault("Train:Env") ?? Environment.GetEnvironmentVariable("DISTSAC_TRAIN__ENV") ?? new TrainOptions().Env;
            EnvironmentRegistry.GetSpec(envId); // unknown ids fail here, listing the registered ones
            var configuration = DistSacConfiguration.Build(parse.GetValue(configOption), EnvironmentDefaults.For(envId), overrides);
            var train = DistSacConfiguration.Bind<TrainOptions>(configuration, "Train");
            var sac = DistSacConfiguration.Bind<SacOptions>(configuration, "Sac");
            if (Microsoft.Extensions.Configuration.ConfigurationExtensions.Exists(configuration.GetSection("Sac:HiddenSizes")))
                sac = sac with { HiddenSizes = Microsoft.Extensions.Configuration.ConfigurationBinder.Get<int[]>(configuration.GetSection("Sac:HiddenSizes")) ?? sac.HiddenSizes };

            var progress = new ProgressLine();
            var trainer = new SingleProcessTrainer(train, sac, m => progress.Update(Format(m, train.Steps)));   // validates first
            Console.WriteLine(EnvironmentDefaults.Describe(envId));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"using: {train.Steps} steps, seed {train.Seed}, learning rates actor {sac.ActorLearningRate:G} critic {sac.CriticLearningRate:G} alpha {sac.AlphaLearningRate:G}, {new ExplorationSettings(train.ExplorationNoise, train.NoiseCorrelationSteps)}"));
            var result = trainer.Run(cancellationToken);
            progress.Finish();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"final deterministic evaluation over {result.FinalEvaluation.Episodes} episodes: mean {result.FinalEvaluation.MeanReturn:F1} std {result.FinalEvaluation.StdReturn:F1}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.Steps} env steps, {result.Updates} updates in {result.Seconds:F1} s; run directory: {result.RunDirectory}"));
            PlotCommand.TryWriteCurve(result.RunDirectory, Console.WriteLine);
            if (result.CheckpointError is { } error)
            {
                Console.Error.WriteLine($"error: {error}. Free space or fix the folder's permissions (--runs-root).");
                return Task.FromResult(1);
            }
            // Stopped by Ctrl-C or SIGTERM is a normal end (README's exit codes): the run directory holds what was done.
            return Task.FromResult(0);
        });
        return command;
    }

    private static string Format(TrainMetrics m, long steps) => string.Create(CultureInfo.InvariantCulture,
        $"step {ProgressText.OfTotal(m.Step, steps, m.StepsPerS)} | return {Fmt(m.EpisodeReturn),8} | eval {Fmt(m.EvalReturn),8} | alpha {m.Alpha:F3} | q-loss {m.CriticLoss:F3} | pi-loss {m.ActorLoss:F2} | {m.StepsPerS,6:F0} steps/s | {m.UpdatesPerS,6:F0} upd/s");

    private static string Fmt(double? v) => v is { } x && !double.IsNaN(x) ? x.ToString("F1", CultureInfo.InvariantCulture) : "-";
}
