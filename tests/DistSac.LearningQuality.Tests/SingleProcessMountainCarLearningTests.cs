using System.Globalization;
using DistSac.Learning;
using DistSac.Learning.Training;
using DistSac.Policy;
using Xunit.Abstractions;

namespace DistSac.LearningQuality.Tests;

/// <summary>
/// MountainCarContinuous-v0 with the defaults `distsac train --env MountainCarContinuous-v0` uses (paper SAC settings,
/// Ornstein-Uhlenbeck exploration noise with a 15-step correlation time, 50k steps): a deterministic evaluation
/// (10 episodes) reaches the env's reward threshold of 90 within 50,000 env steps. One seed only (seed 0), since a run
/// takes minutes on CPU; issue 15 asks for 4 of 5 seeds, which has not been measured here.
/// </summary>
[Trait("Category", "Learning")]
public sealed class SingleProcessMountainCarLearningTests(ITestOutputHelper output)
{
    private const string EnvId = "MountainCarContinuous-v0";

    [Fact]
    public void MountainCar_ReachesNinety_WithinFiftyThousandSteps_WithOrnsteinUhlenbeckExploration()
    {
        var root = Path.Combine(SingleProcessPendulumLearningTests.ArtifactsRoot(), "single-process");
        ExplorationSettings exploration = ExplorationSettings.DefaultFor(EnvId);
        var train = new TrainOptions
        {
            Env = EnvId, Steps = 50_000, Seed = 0, EvalInterval = 2_000, EvalEpisodes = 10, LogInterval = 2_000,
            RunsRoot = root, RunId = "mountaincar-seed0", StopAtEvalReturn = 90, Device = "cpu",
            ExplorationNoise = exploration.Noise, NoiseCorrelationSteps = exploration.CorrelationSteps,
        };
        var runPath = Path.Combine(root, train.RunId!);
        if (Directory.Exists(runPath)) Directory.Delete(runPath, recursive: true); // metrics.jsonl appends

        var result = new SingleProcessTrainer(train, new SacOptions()).Run(CancellationToken.None);

        var line = string.Create(CultureInfo.InvariantCulture,
            $"[learning] {EnvId} seed 0 ({exploration}): {(result.FirstStepReachingThreshold is { } at ? $"reached 90 at {at} steps" : "did not reach 90")}, last eval {result.FinalEvaluation.MeanReturn:F1}, {result.Seconds:F0} s");
        output.WriteLine(line);
        Console.WriteLine(line);
        Assert.True(result.FirstStepReachingThreshold is not null, line);
    }
}
