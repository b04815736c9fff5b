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
        _ => new Dictionary<string, string?>(),
    };
}
