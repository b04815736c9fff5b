using System.Diagnostics;
using DistSac.Testing;
using Xunit.Abstractions;

namespace DistSac.Faults.Tests;

/// <summary>
/// Shard 0 SIGKILLed and kept down under the real processes (learner, two gateways, two workers, rate limit on): the
/// learner keeps updating (its weights and progress go to shard 1), the workers' pushes keep being acknowledged, and a
/// worker restarted with its old id registers (a new incarnation) and pushes while shard 0 is still down. Shard 0 then
/// comes back from its AOF, and once the workers stop Redis holds exactly what they acknowledged.
/// </summary>
[Trait("Category", "Faults")]
public sealed class Shard0DownFaultTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Within = FaultSuiteTests.UpdatingAgainWithin;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    [Fact]
    public async Task With_shard_0_down_the_learner_updates_pushes_are_acknowledged_and_a_restarted_worker_registers()
    {
        await using var cluster = await FaultCluster.StartAsync(Log);
        Log($"started; learner updating after {await cluster.WaitForLearnerUpdatingAsync(TimeSpan.FromSeconds(120)):F1} s");
        await Task.Delay(1500);

        await cluster.Shards[0].StopAsync(FaultCluster.SigKill);
        Log("shard 0 SIGKILLed; it stays down");
        Log($"learner updating {await cluster.WaitForLearnerUpdatingAsync(Within):F1} s later");
        var steady = cluster.Workers[0];
        double ackedAtKill = await FaultCluster.ScrapeAsync(steady.HttpPort, "distsac_transitions_pushed_total") ?? 0;
        await Eventually.TrueAsync(async () => (await FaultCluster.ScrapeAsync(steady.HttpPort, "distsac_transitions_pushed_total") ?? 0) >= ackedAtKill + 200,
            $"{steady.Id} to have 200 more transitions acknowledged while shard 0 is down", Within.TotalSeconds, pollMs: 200);

        var restarted = cluster.Workers[1];
        await cluster.TerminateWorkerAsync(restarted);
        cluster.StartWorker(restarted); // GetRunInfo (a new incarnation) while shard 0 is down
        await Eventually.TrueAsync(async () => (await FaultCluster.ScrapeAsync(restarted.HttpPort, "distsac_transitions_pushed_total") ?? 0) >= 100,
            $"{restarted.Id}, restarted while shard 0 is down, to have 100 transitions acknowledged", Within.TotalSeconds, pollMs: 200);
        Log($"{restarted.Id} restarted and pushing; learner updating {await cluster.WaitForLearnerUpdatingAsync(Within):F1} s later");
        Assert.False(cluster.Learner.HasExited, FaultCluster.Tail(cluster.Learner));
        foreach (var g in cluster.Gateways) Assert.False(g.Process.HasExited, FaultCluster.Tail(g.Process));
        foreach (var w in cluster.Workers) Assert.False(w.Process.HasExited, FaultCluster.Tail(w.Process));

        await cluster.Shards[0].StartAsync();
        Log($"shard 0 back from its AOF; learner updating {await cluster.WaitForLearnerUpdatingAsync(Within):F1} s later");
        cluster.AssertAllRunning();
        foreach (var w in cluster.Workers) await cluster.TerminateWorkerAsync(w);
        await cluster.AuditAsync(exact: true);
        Log("exact audit passed: every acknowledged transition is stored once");
        await cluster.StopAsync(cluster.Learner, FaultCluster.SigTerm, "learner");
    }

    private void Log(string line)
    {
        var text = $"[shard0-down {_clock.Elapsed.TotalSeconds,6:F1}s] {line}";
        output.WriteLine(text);
        Console.WriteLine(text);
    }
}
