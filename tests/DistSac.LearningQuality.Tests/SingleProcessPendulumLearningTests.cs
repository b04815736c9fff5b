using System.Globalization;
using DistSac.Learning;
using DistSac.Learning.Training;
using Xunit.Abstractions;

namespace DistSac.LearningQuality.Tests;

/// <summary>
/// The foundation's quality bar: with Pendulum-v1's defaults, a deterministic evaluation (10 episodes) reaches a mean of
/// -200 or better within 20,000 env steps for at least 4 of 5 seeds, as Stable-Baselines3's SAC does.
/// Each seed's curve is written to artifacts/learning/ for docs/benchmarks.md.
/// </summary>
[Trait("Category", "Learning")]
public sealed class SingleProcessPendulumLearningTests(ITestOutputHelper output)
{
    // rl-baselines3-zoo's Pendulum-v1 SAC settings (learning rate 1e-3 for all three optimizers), as `distsac train` uses.
    private static readonly SacOptions PendulumSac = new() { ActorLearningRate = 1e-3, CriticLearningRate = 1e-3, AlphaLearningRate = 1e-3 };

    [Fact]
    public void Pendulum_ReachesMinus200_WithinTwentyThousandSteps_ForFourOfFiveSeeds()
    {
        var root = Path.Combine(ArtifactsRoot(), "single-process");
        int solved = 0;
        var summary = new List<string>();
        for (long seed = 0; seed < 5; seed++)
        {
            var train = new TrainOptions
            {
                Env = "Pendulum-v1", Steps = 20_000, Seed = seed, EvalInterval = 1_000, EvalEpisodes = 10, LogInterval = 1_000,
                RunsRoot = root, RunId = $"pendulum-seed{seed}", StopAtEvalReturn = -200, Device = "cpu",
            };
            var runPath = Path.Combine(root, train.RunId!);
            if (Directory.Exists(runPath)) Directory.Delete(runPath, recursive: true); // metrics.jsonl appends
            var result = new SingleProcessTrainer(train, PendulumSac).Run(CancellationToken.None);
            bool ok = result.FirstStepReachingThreshold is not null;
            if (ok) solved++;
            var line = string.Create(CultureInfo.InvariantCulture,
                $"[learning] seed {seed}: {(ok ? $"reached -200 at {result.FirstStepReachingThreshold} steps" : "did not reach -200")}, last eval {result.FinalEvaluation.MeanReturn:F1}, {result.Seconds:F0} s");
            output.WriteLine(line);
            Console.WriteLine(line);
            summary.Add(line);
        }
        File.WriteAllLines(Path.Combine(root, "summary.txt"), summary);
        Assert.True(solved >= 4, $"only {solved} of 5 seeds reached -200 within 20,000 steps:\n{string.Join('\n', summary)}");
    }

    internal static string ArtifactsRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DistSac.sln"))) dir = dir.Parent;
        var root = Path.Combine(dir?.FullName ?? Path.GetTempPath(), "artifacts", "learning");
        Directory.CreateDirectory(root);
        return root;
    }
}
