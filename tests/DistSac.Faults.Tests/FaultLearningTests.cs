using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace DistSac.Faults.Tests;

/// <summary>
/// Two roles down at once, in the middle of real training, and the run still learns: Pendulum-v1 (learner defaults,
/// 2 AOF shards, 2 gateways, 2 workers) takes three compound faults — learner and a shard SIGKILLed together, a gateway
/// SIGKILLed while a worker is SIGTERMed, and a learner SIGTERMed while shard 0 is down (it must still checkpoint and
/// exit 0) — then must reach a deterministic evaluation of -200 or better within 30,000 env steps, and Redis must hold
/// exactly the transitions the workers acknowledged. The faults come at 600, 1,200 and 1,800 updates, before the
/// first evaluation that could stop the run (every 1,000 updates; Pendulum-v1 needs about 4,000 here).
/// </summary>
[Trait("Category", "Faults")]
public sealed partial class FaultLearningTests(ITestOutputHelper output)
{
    private static readonly TimeSpan UpdatingAgainWithin = FaultSuiteTests.UpdatingAgainWithin;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    [Fact]
    public async Task A_run_with_two_roles_down_at_once_still_reaches_minus_200_on_Pendulum_and_loses_nothing_acknowledged()
    {
        await using var cluster = await FaultCluster.StartAsync(Log, FaultCluster.LearnerProfile.Learning);
        Log($"started; learner updating after {await cluster.WaitForLearnerUpdatingAsync(TimeSpan.FromSeconds(180)):F1} s");
        await WaitForUpdatesAsync(cluster, 600);

        Log("compound 1: learner and shard 1 SIGKILLed together");
        var learnerStop = cluster.StopAsync(cluster.Learner, FaultCluster.SigKill, "learner");
        await Task.WhenAll(learnerStop, cluster.Shards[1].StopAsync(FaultCluster.SigKill));
        await Task.Delay(1000);
        await cluster.Shards[1].StartAsync();
        cluster.StartLearner();
        Log($"  learner updating again after {await cluster.WaitForLearnerUpdatingAsync(UpdatingAgainWithin):F1} s");
        cluster.AssertAllRunning();
        await cluster.AuditAsync(exact: false);

        await WaitForUpdatesAsync(cluster, 1200);
        Log("compound 2: gateway 0 SIGKILLed while worker-b is SIGTERMed");
        await Task.WhenAll(cluster.StopAsync(cluster.Gateways[0].Process, FaultCluster.SigKill, "gateway 0"), cluster.TerminateWorkerAsync(cluster.Workers[1]));
        await Task.Delay(1000);
        cluster.StartGateway(cluster.Gateways[0]);
        cluster.StartWorker(cluster.Workers[1]);
        Log($"  learner updating {await cluster.WaitForLearnerUpdatingAsync(UpdatingAgainWithin):F1} s after the restarts");
        cluster.AssertAllRunning();
        await cluster.AuditAsync(exact: false);

        await WaitForUpdatesAsync(cluster, 1800);
        Log("compound 3: shard 0 SIGKILLed, then the learner SIGTERMed while it is down");
        await cluster.Shards[0].StopAsync(FaultCluster.SigKill);
        await Task.Delay(500);
        await cluster.StopAsync(cluster.Learner, FaultCluster.SigTerm, "learner"); // exit 0 asserted: it checkpoints without its shard
        Assert.True(File.Exists(cluster.CheckpointPath), "the learner stopped by SIGTERM while shard 0 was down wrote no checkpoint");
        await cluster.Shards[0].StartAsync();
        cluster.StartLearner();
        Log($"  learner updating again after {await cluster.WaitForLearnerUpdatingAsync(UpdatingAgainWithin):F1} s");
        cluster.AssertAllRunning();
        await cluster.AuditAsync(exact: false);

        // The learner stops by itself at the first evaluation of -200 or better, or at 30,000 env steps.
        var exit = await cluster.Learner.WaitForExitAsync(TimeSpan.FromMinutes(20));
        Assert.True(exit == 0, $"the learner exited {exit}:\n{FaultCluster.Tail(cluster.Learner)}");
        var (best, steps) = BestEvaluation(cluster.MetricsPath);
        Log($"learner done: best evaluation {best:F1} at {steps} env steps");
        Assert.True(best >= -200, $"best evaluation after the faults was {best:F1} (at {steps} env steps)");

        foreach (var w in cluster.Workers) await cluster.TerminateWorkerAsync(w);
        await cluster.AuditAsync(exact: true);
        Log($"exact audit passed; done in {_clock.Elapsed.TotalSeconds:F0} s");
    }

    private async Task WaitForUpdatesAsync(FaultCluster cluster, double updates)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(cluster.Learner.HasExited, $"the learner exited early:\n{FaultCluster.Tail(cluster.Learner)}");
            if (await cluster.LearnerUpdatesAsync() is { } n && n >= updates) { Log($"learner at {n:F0} updates"); return; }
            await Task.Delay(500);
        }
        throw new TimeoutException($"the learner did not reach {updates} updates in 5 minutes:\n{FaultCluster.Tail(cluster.Learner)}");
    }

    private static (double Best, long Steps) BestEvaluation(string metricsPath)
    {
        double best = double.NegativeInfinity; long at = -1;
        foreach (var line in File.ReadAllLines(metricsPath))
        {
            var e = EvalReturn().Match(line);
            var s = EnvSteps().Match(line);
            if (!e.Success || !s.Success) continue;
            var value = double.Parse(e.Groups[1].Value, CultureInfo.InvariantCulture);
            if (value > best) { best = value; at = long.Parse(s.Groups[1].Value, CultureInfo.InvariantCulture); }
        }
        return (best, at);
    }

    [GeneratedRegex("\"eval_return\":(-?[0-9.]+)")]
    private static partial Regex EvalReturn();

    [GeneratedRegex("\"env_steps\":([0-9]+)")]
    private static partial Regex EnvSteps();

    private void Log(string line)
    {
        var text = $"[faults-learning {_clock.Elapsed.TotalSeconds,6:F1}s] {line}";
        output.WriteLine(text);
        Console.WriteLine(text);
    }
}
