using System.Globalization;
using DistSac.Policy;

namespace DistSac.Cli.Configuration;

/// <summary>
/// Per-environment hyperparameters that differ from the paper defaults. Pendulum-v1 follows rl-baselines3-zoo's
/// published SAC settings (hyperparams/sac.yml: learning_rate 1e-3, 20k steps); others use the paper defaults.
/// </summary>
public static class EnvironmentDefaults
{
    /// <param name="role">Configuration section of the role's step count ("Train" or "Learner").</param>
    public static IReadOnlyDictionary<string, string?> For(string envId, string role = "Train") => envId switch
    {
        "Pendulum-v1" => new Dictionary<string, string?>
        {
            ["Sac:ActorLearningRate"] = "0.001",
            ["Sac:CriticLearningRate"] = "0.001",
            ["Sac:AlphaLearningRate"] = "0.001",
            [$"{role}:Steps"] = "20000",
        },
        // Plain Gaussian SAC never reaches the flag, learns to stand still and its temperature collapses; temporally
        // correlated (Ornstein-Uhlenbeck) eps reaches it in most early episodes (ExplorationSettings.DefaultFor).
        "MountainCarContinuous-v0" => new Dictionary<string, string?>
        {
            ["Train:ExplorationNoise"] = ExplorationSettings.DefaultFor(envId).Noise,
            ["Train:NoiseCorrelationSteps"] = ExplorationSettings.DefaultFor(envId).CorrelationSteps.ToString(CultureInfo.InvariantCulture),
            [$"{role}:Steps"] = "50000",
        },
        _ => new Dictionary<string, string?>(),
    };

    /// <summary>
    /// One line naming the per-environment defaults of <paramref name="envId"/> and the exploration noise its workers
    /// use, so whoever picks an environment sees which settings differ from the paper's (printed by train and local).
    /// </summary>
    public static string Describe(string envId, string role = "Train")
    {
        var defaults = For(envId, role);
        var pairs = new List<string>(defaults.Count);
        foreach (var (key, value) in defaults)
        {
            pairs.Add($"{key}={value}");
        }

        pairs.Sort(StringComparer.Ordinal);
        string keys = pairs.Count == 0 ? "none (paper defaults)" : string.Join(", ", pairs);
        return $"{envId} per-environment defaults: {keys}; exploration: {ExplorationSettings.DefaultFor(envId)}";
    }
}
