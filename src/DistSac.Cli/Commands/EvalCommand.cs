using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DistSac.Envs;
using DistSac.Learning.Training;
using DistSac.Policy;

namespace DistSac.Cli.Commands;

/// <summary>`distsac eval`: deterministic returns of an exported actor, run in pure C# (no libtorch needed).</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A run directory, its checkpoint/ folder, or an actor.dsac file.", Required = true };
        var env = new Option<string>("--env") { Description = "Environment id (default: the one in the run's config.json)." };
        var episodes = new Option<int>("--episodes") { Description = "Episodes to run.", DefaultValueFactory = _ => 10 };
        var seed = new Option<long>("--seed") { Description = "Seed of the first episode (episode i uses seed + i).", DefaultValueFactory = _ => 12345 };
        var command = new Command("eval", "Report mean and std of deterministic returns of a checkpoint.") { checkpoint, env, episodes, seed };
        command.SetAction(parse =>
        {
            var (weightsPath, runConfig) = Locate(parse.GetValue(checkpoint)!);
            var envId = parse.GetValue(env) ?? ReadEnvId(runConfig)
                ?? throw new ArgumentException($"No --env given and no config.json found next to '{weightsPath}'. Pass --env, e.g. --env Pendulum-v1.");
            var n = parse.GetValue(episodes);
            if (n < 1) throw new ArgumentException($"--episodes must be >= 1 (got {n}).");
            var weights = ActorWeights.FromBytes(File.ReadAllBytes(weightsPath));
            var result = PolicyEvaluation.Run(weights, envId, n, parse.GetValue(seed));
            Console.WriteLine(MetricsWriter.Serialize(new
            {
                Checkpoint = weightsPath, Env = envId, Version = weights.Version, Episodes = n,
                MeanReturn = Math.Round(result.MeanReturn, 3), StdReturn = Math.Round(result.StdReturn, 3), MeanLength = result.MeanLength,
            }));
            return 0;
        });
        return command;
    }

    private static (string Weights, string? Config) Locate(string path)
    {
        if (File.Exists(path)) return (path, FindConfig(Path.GetDirectoryName(Path.GetFullPath(path))!));
        if (Directory.Exists(path))
        {
            foreach (var candidate in new[] { Path.Combine(path, RunDirectory.ActorWeightsFileName), Path.Combine(path, "checkpoint", RunDirectory.ActorWeightsFileName) })
                if (File.Exists(candidate)) return (candidate, FindConfig(Path.GetDirectoryName(Path.GetFullPath(candidate))!));
        }
        throw new FileNotFoundException($"No actor weights at '{path}': expected a run directory, its checkpoint/ folder or an {RunDirectory.ActorWeightsFileName} file.");
    }

    private static string? FindConfig(string directory)
    {
        foreach (var dir in new[] { directory, Path.GetDirectoryName(directory) })
        {
            if (dir is null) continue;
            var p = Path.Combine(dir, "config.json");
            if (File.Exists(p)) return p;
        }
        return null;
    }

    private static string? ReadEnvId(string? configPath)
    {
        if (configPath is null) return null;
        using var doc = JsonDocument.Parse(File.ReadAllText(configPath));
        foreach (var section in new[] { "Train", "Run", "Learner" })
            if (doc.RootElement.TryGetProperty(section, out var s) && s.TryGetProperty("Env", out var e)) return e.GetString();
        return null;
    }
}

/// <summary>Deterministic episodes of a pure-C# actor (no libtorch).</summary>
public static class PolicyEvaluation
{
    public static EvaluationResult Run(ActorWeights weights, string envId, int episodes, long seed)
    {
        var spec = EnvironmentRegistry.GetSpec(envId);
        if (spec.ObservationSize != weights.ObservationSize || spec.ActionSize != weights.ActionSize)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The actor expects observation/action sizes {weights.ObservationSize}/{weights.ActionSize} but {envId} has {spec.ObservationSize}/{spec.ActionSize}."));
        var network = new ActorNetwork(weights, episodes);
        return DeterministicEpisodes.Run(envId, episodes, seed, (observations, actions) => network.Act(observations, episodes, actions, deterministic: true));
    }
}
