using DistSac.Envs;

namespace DistSac.Learning.Training;

/// <summary>Writes the actions [N * A] for the observations [N * O] of N side-by-side episodes.</summary>
public delegate void BatchPolicy(float[] observations, float[] actions);

/// <summary>
/// N evaluation episodes stepped side by side with one batched policy call per step, episode i reset with seed + i so
/// results are reproducible; shared by the TorchSharp evaluator and the pure-C# `distsac eval`.
/// </summary>
public static class DeterministicEpisodes
{
    public static EvaluationResult Run(string envId, int episodes, long seed, BatchPolicy policy)
    {
        var spec = EnvironmentRegistry.GetSpec(envId);
        int o = spec.ObservationSize, a = spec.ActionSize;
        var envs = new IEnvironment[episodes];
        var observations = new float[episodes * o];
        var actions = new float[episodes * a];
        var returns = new double[episodes];
        var lengths = new int[episodes];
        var done = new bool[episodes];
        for (int i = 0; i < episodes; i++)
        {
            envs[i] = EnvironmentRegistry.Make(envId);
            envs[i].Reset(seed + i, observations.AsSpan(i * o, o));
        }
        int running = episodes;
        while (running > 0)
        {
            policy(observations, actions);
            for (int i = 0; i < episodes; i++)
            {
                if (done[i]) continue;
                var r = envs[i].Step(actions.AsSpan(i * a, a), observations.AsSpan(i * o, o));
                returns[i] += r.Reward;
                lengths[i]++;
                if (r.Terminated || r.Truncated) { done[i] = true; running--; }
            }
        }
        return EvaluationResult.FromEpisodes(returns, lengths);
    }
}
