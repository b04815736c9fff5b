using DistSac.Envs;
using DistSac.Learning.Networks;
using DistSac.Learning.Training;
using DistSac.Policy;
using TorchSharp;
using static TorchSharp.torch;

namespace DistSac.Learning.Tests;

public sealed class TorchPolicyEvaluatorTests
{
    [Fact]
    public void Evaluate_ReportsTheDeterministicReturnsOfSeededEpisodesRunToTheTimeLimit()
    {
        const string envId = "Pendulum-v1";
        const int episodes = 3;
        const long seed = 40;
        var spec = EnvironmentRegistry.GetSpec(envId);
        torch.manual_seed(41);
        using var actor = new SquashedGaussianActor(spec.ObservationSize, spec.ActionSize, [32, 32], spec.ActionLow, spec.ActionHigh, CPU);

        var result = TorchPolicyEvaluator.Evaluate(actor, envId, episodes, seed, CPU);

        // The same episodes played one by one with the pure-C# actor's deterministic action tanh(mu) scale + bias.
        var network = new ActorNetwork(ActorExport.ToActorWeights(actor, 0), 1);
        var returns = new double[episodes];
        var observation = new float[spec.ObservationSize];
        var action = new float[spec.ActionSize];
        for (int e = 0; e < episodes; e++)
        {
            var env = EnvironmentRegistry.Make(envId);
            env.Reset(seed + e, observation);
            int steps = 0;
            while (true)
            {
                network.Act(observation, 1, action, deterministic: true);
                var step = env.Step(action, observation);
                returns[e] += step.Reward;
                steps++;
                if (step.Terminated || step.Truncated) break;
            }
            Assert.Equal(spec.MaxEpisodeSteps, steps);
        }
        double mean = returns.Average();
        double std = Math.Sqrt(returns.Sum(r => (r - mean) * (r - mean)) / episodes);

        Assert.Equal(episodes, result.Episodes);
        Assert.Equal(spec.MaxEpisodeSteps, result.MeanLength);
        Assert.Equal(mean, result.MeanReturn, 1e-3 * Math.Abs(mean));
        Assert.Equal(std, result.StdReturn, 1e-3 * Math.Abs(mean));
        Assert.True(std > 0, "the seeds gave identical episodes");
    }
}
