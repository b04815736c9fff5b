using System.Globalization;
using System.Text.RegularExpressions;

namespace DistSac.Integration.Tests;

/// <summary>
/// Learning through the distributed path (`distsac local`, rate limiter at one update per env step): Pendulum-v1 reaches
/// a deterministic evaluation mean of -200 or better within 20,000 env steps. One seed per configuration here; the
/// five-seed tables in docs/benchmarks.md come from bench/learning-curves.sh.
/// </summary>
[Trait("Category", "Learning")]
public sealed partial class DistributedLearningTests
{
    [Theory]
    [InlineData(2, 1, 0)]
    [InlineData(4, 2, 0)]
    public async Task Pendulum_ReachesMinus200_WithinTwentyThousandSteps(int workers, int shards, int seed)
    {
        var runs = Path.Combine(Path.GetTempPath(), "distsac-learning");
        var runId = $"pendulum-w{workers}-s{shards}-seed{seed}-{DateTime.UtcNow:HHmmss}";
        await using var local = DistSacProcess.Start(
        [
            "local", "--workers", workers.ToString(CultureInfo.InvariantCulture), "--shards", shards.ToString(CultureInfo.InvariantCulture),
            "--steps", "20000", "--seed", seed.ToString(CultureInfo.InvariantCulture), "--eval-interval", "1000",
            "--stop-at-eval-return", "-200", "--runs-root", runs, "--run-id", runId,
        ]);
        var exit = await local.WaitForExitAsync(TimeSpan.FromMinutes(25));
        Assert.True(exit == 0, $"distsac local exited {exit}:\n{local.Output}");

        var metrics = File.ReadAllLines(Path.Combine(runs, runId, "metrics.jsonl"));
        double best = double.NegativeInfinity; long stepsAtBest = -1;
        foreach (var line in metrics)
        {
            var e = EvalReturn().Match(line);
            var s = EnvSteps().Match(line);
            if (!e.Success || !s.Success) continue;
            var value = double.Parse(e.Groups[1].Value, CultureInfo.InvariantCulture);
            var steps = long.Parse(s.Groups[1].Value, CultureInfo.InvariantCulture);
            if (steps <= 20_000 && value > best) { best = value; stepsAtBest = steps; }
        }
        Console.WriteLine($"[learning] local {workers} workers {shards} shards seed {seed}: best eval {best:F1} at {stepsAtBest} env steps");
        Assert.True(best >= -200, $"best evaluation within 20,000 env steps was {best:F1}");
    }

    [GeneratedRegex("\"eval_return\":(-?[0-9.]+)")]
    private static partial Regex EvalReturn();

    [GeneratedRegex("\"env_steps\":([0-9]+)")]
    private static partial Regex EnvSteps();
}
