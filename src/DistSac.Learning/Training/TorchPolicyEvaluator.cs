using DistSac.Envs;
using DistSac.Learning.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DistSac.Learning.Training;

public readonly record struct EvaluationResult(double MeanReturn, double StdReturn, int Episodes, double MeanLength)
{
    /// <summary>Mean and (population) standard deviation of per-episode returns, and the mean episode length.</summary>
    public static EvaluationResult FromEpisodes(ReadOnlySpan<double> returns, ReadOnlySpan<int> lengths)
    {
        int n = returns.Length;
        double mean = 0, meanLength = 0;
        for (int i = 0; i < n; i++) { mean += returns[i]; meanLength += lengths[i]; }
        mean /= n; meanLength /= n;
        double variance = 0;
        for (int i = 0; i < n; i++) variance += (returns[i] - mean) * (returns[i] - mean);
        return new EvaluationResult(mean, Math.Sqrt(variance / n), n, meanLength);
    }
}

/// <summary>
/// Deterministic evaluation (a = tanh(mu) * scale + bias) of the learner's actor: N episodes stepped side by side, one
/// batched forward per step, each episode from its own seed so results are reproducible.
/// </summary>
public static class TorchPolicyEvaluator
{
    /// <summary>
    /// The seed of a run's evaluation episodes: offset from the run seed by a large prime, so evaluation starts never
    /// coincide with the training episodes the workers derive from the same run seed.
    /// </summary>
    public static long EvaluationSeed(long runSeed) => runSeed + 1_000_003;

    public static EvaluationResult Evaluate(SquashedGaussianActor actor, string envId, int episodes, long seed, Device device)
    {
        int o = EnvironmentRegistry.GetSpec(envId).ObservationSize;
        return DeterministicEpisodes.Run(envId, episodes, seed, (observations, actions) =>
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var obs = tensor(observations, [episodes, o]).to(device);
            actor.Deterministic(obs).cpu().data<float>().CopyTo(actions, 0, 0);
        });
    }
}
