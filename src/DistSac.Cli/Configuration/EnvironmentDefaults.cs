using System.Globalization;
using DistSac.Policy;

namespace DistSac.Cli.Configuration;

/// <summary>
/// Per-environment hyperparameters that differ from the paper defaults. Pendulum-v1 follows rl-baselines3-zoo's
/// published SAC settings (hyperparams/sac.yml: learning_rate 1e-3, 20k steps); others use the paper defaults.
/// The distributed learner (roles Learner and Local) also gets Pendulum-v1's critic target rate tau 0.02: measured
/// with `distsac bench e2e` over 12 seeds, it cut the learner updates to a deterministic -200 from 2,750 to 1,500
/// (median) and 3,750 to 3,000 (worst) (docs/benchmarks.md, "Issue 11 goal 5").
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
        }.WithDistributedTau(role, PendulumDistributedTau),
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

    /// <summary>Pendulum-v1's Polyak rate for the distributed learner's critic targets (paper default 0.005).</summary>
    public const string PendulumDistributedTau = "0.02";

    /// <summary>
    /// Adds Sac:Tau for the distributed roles only: `train` keeps rl-baselines3-zoo's settings as the single-process
    /// reference (its learning bar and curves were measured with them), and tau was measured on the distributed path.
    /// </summary>
    private static Dictionary<string, string?> WithDistributedTau(this Dictionary<string, string?> defaults, string role, string tau)
    {
        if (role != "Train") defaults["Sac:Tau"] = tau;
        return defaults;
    }

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
