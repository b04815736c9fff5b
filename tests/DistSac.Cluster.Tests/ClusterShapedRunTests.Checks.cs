using System.Globalization;
using StackExchange.Redis;

using static DistSac.Cluster.Tests.ClusterWorkloads;

namespace DistSac.Cluster.Tests;

/// <summary>The checks and waits the cluster-shaped scenarios share.</summary>
public sealed partial class ClusterShapedRunTests
{
    /// <summary>No container was OOM-killed under its manifest memory limit; logs each pod's peak against its limit.</summary>
    private void AssertWithinMemoryLimits(LabCluster cluster)
    {
        foreach (var pod in cluster.Pods.Where(p => p.Cgroup is not null && !p.Replaced))
        {
            var cg = pod.Cgroup!;
            Log($"{pod.Name}: peak memory charged {cg.PeakMemoryBytes() / 1048576.0:F0} MiB of limit {cg.MemoryLimitBytes / 1048576.0:F0} MiB, cpu limit {cg.CpuLimitCores}");
            Assert.Equal(cg.MemoryLimitBytes, cg.MemoryLimitInEffect());
            Assert.Equal(0, cg.OomKills());
        }
    }

    /// <summary>readOnlyRootFilesystem: a directory the pod's user owns is still read-only in the pod; its /tmp emptyDir is not.</summary>
    private static async Task AssertRootIsReadOnlyAsync(LabCluster cluster, Pod pod, string root)
    {
        var probe = Path.Combine(root, "owned-by-the-pod-user");
        Directory.CreateDirectory(probe);
        DistSac.Deploy.Tests.Tool.Run("chown", [$"{pod.Launch.Uid}:{pod.Launch.Gid}", probe]);
        Assert.NotEqual(0, await cluster.ExecAsync(pod, ["touch", Path.Combine(probe, "x")], CancellationToken.None));
        var scratch = "/tmp/distsac-rw-probe-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(0, await cluster.ExecAsync(pod, ["touch", scratch], CancellationToken.None));
        Assert.False(File.Exists(scratch), "the pod's /tmp is the host's /tmp, not its own emptyDir");
        Assert.True(File.Exists(Path.Combine(pod.Launch.VolumeDirectories["/tmp"], Path.GetFileName(scratch))));
    }

    private async Task<Dictionary<string, double>> WaitForLearnerAsync(LabCluster cluster, Pod learner, string what, Func<Dictionary<string, double>, bool> done)
    {
        var deadline = _clock.Elapsed + PhaseTimeout;
        Dictionary<string, double> m = [];
        while (_clock.Elapsed < deadline)
        {
            if (learner.HasExited) Assert.Fail($"the learner exited ({learner.ExitCode}):\n{learner.LogTail()}");
            m = await cluster.ScrapeAsync(learner, "http-metrics");
            if (done(m))
            {
                Log($"{what}: env steps {m["distsac_env_steps"]}, updates {m["distsac_updates_total"]}, workers active {m["distsac_workers_active"]}, seen {m["distsac_workers_seen"]}");
                return m;
            }
            await Task.Delay(500);
        }
        throw new TimeoutException($"{what}: not reached within {PhaseTimeout}; last learner metrics: env steps {m.GetValueOrDefault("distsac_env_steps")}, " +
                                   $"updates {m.GetValueOrDefault("distsac_updates_total")}, workers active {m.GetValueOrDefault("distsac_workers_active")}");
    }

    /// <summary>Scales the given workers to 0 (SIGTERM, exit 0) and reads what each logged as stepped and acknowledged when it stopped.</summary>
    private static async Task<Dictionary<string, (long Steps, long Acked)>> StopWorkersAsync(LabCluster cluster, IEnumerable<Pod> workers)
    {
        var acknowledged = new Dictionary<string, (long Steps, long Acked)>(StringComparer.Ordinal);
        foreach (var w in workers)
        {
            Assert.Equal(0, await cluster.TerminateAsync(w));
            var stopped = WorkerStopped().Match(w.ReadLog());
            Assert.True(stopped.Success, $"worker {w} did not log its final counts:\n{w.LogTail()}");
            acknowledged[w.Name] = (long.Parse(stopped.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(stopped.Groups[2].Value, CultureInfo.InvariantCulture));
        }
        return acknowledged;
    }

    /// <summary>A connection to a Redis pod's address from the host, as the audit needs it.</summary>
    private static async Task<ConnectionMultiplexer> ConnectRedisAsync(Pod redis, string password) =>
        await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { $"{redis.Network.Address}:6379" }, Password = password, AbortOnConnectFail = true,
        });

    /// <summary>
    /// Per worker, what each shard's insert script counted (shard:i:workers) against what the worker said was acknowledged.
    /// A worker that stopped cleanly with nothing outstanding must match exactly; the killed one must have at least
    /// what it had reported before the kill; the per-worker counts must add up to the shards' totals.
    /// </summary>
    private async Task AuditReplayAsync(IReadOnlyList<Pod> redis, string password, string runId,
        Dictionary<string, (long Steps, long Acked)> acknowledged, (string Pod, long Acked)? killed)
    {
        var stored = new Dictionary<string, long>(StringComparer.Ordinal);
        long totals = 0;
        for (int i = 0; i < redis.Count; i++)
        {
            await using var connection = await ConnectRedisAsync(redis[i], password);
            var db = connection.GetDatabase();
            foreach (var e in await db.HashGetAllAsync($"distsac:{runId}:shard:{i}:workers"))
            {
                var pod = PodOfWorker((string)e.Name!);
                stored[pod] = stored.GetValueOrDefault(pod) + (long)e.Value;
            }
            totals += (long)await db.HashGetAsync($"distsac:{runId}:shard:{i}:state", "total");
        }
        Log("worker pod: stored in Redis / acknowledged to the worker");
        foreach (var (pod, (steps, acked)) in acknowledged)
        {
            Log($"  {pod}: {stored.GetValueOrDefault(pod)} / {acked} (of {steps} stepped)");
            if (steps == acked) Assert.Equal(acked, stored.GetValueOrDefault(pod));
            else Assert.True(stored.GetValueOrDefault(pod) >= acked, $"{pod}: {acked} acknowledged but {stored.GetValueOrDefault(pod)} stored");
        }
        if (killed is var (victim, victimAcked))
        {
            Log($"  {victim} (SIGKILLed): {stored.GetValueOrDefault(victim)} / at least {victimAcked}");
            Assert.True(stored.GetValueOrDefault(victim) >= victimAcked, $"{victim}: {victimAcked} acknowledged before SIGKILL but {stored.GetValueOrDefault(victim)} stored");
        }
        Assert.Equal(acknowledged.Count + (killed is null ? 0 : 1), stored.Count);
        Assert.Equal(totals, stored.Values.Sum());
    }

    /// <summary>Worker ids are "hostname-pid-random" and a pod's hostname is its name.</summary>
    private static string PodOfWorker(string workerId) => WorkerIdPod().Match(workerId) is { Success: true } m ? m.Groups[1].Value : workerId;

    private void Log(string line)
    {
        var text = $"[{_clock.Elapsed.TotalSeconds,6:F1}s] {line}";
        output.WriteLine(text);
        Console.WriteLine(text);
    }
}
