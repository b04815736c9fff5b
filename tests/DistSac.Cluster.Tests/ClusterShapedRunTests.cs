using System.Diagnostics;
using System.Security.Cryptography;
using DistSac.Deploy.Tests;
using DistSac.Testing;
using k8s.Models;
using Xunit.Abstractions;

using static DistSac.Cluster.Tests.ClusterWorkloads;

namespace DistSac.Cluster.Tests;

[CollectionDefinition(Name)]
public sealed class PublishedImagesCollection : ICollectionFixture<PublishedImages>
{
    public const string Name = "published images";
}

/// <summary>
/// The rendered overlays run as real processes, one network namespace per pod (see <see cref="LabCluster"/>). Main
/// scenario, overlays/tls (cpu + mutual TLS + bearer token between workers and gateways, with a CA and certificates
/// made at test time): Pendulum-v1 trains while workers scale 1 -> 3, one worker and one gateway replica are SIGKILLed
/// and the Deployments replace them; training must go on, the learner's metrics must count the workers, and every
/// transition a worker had acknowledged must be in Redis. overlays/persistent (h2c + token): a Redis shard restart.
/// </summary>
[Collection(PublishedImagesCollection.Name)]
[Trait("Category", "Cluster")]
public sealed partial class ClusterShapedRunTests(PublishedImages images, ITestOutputHelper output)
{
    private static readonly TimeSpan PhaseTimeout = TimeSpan.FromSeconds(240);
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    [Fact]
    public async Task Tls_overlay_trains_through_scaling_and_kills_without_losing_an_acknowledged_transition()
    {
        using var pki = TestPki.Create();
        var (overlay, runId, secret, secrets, root) = Prepare("tls", pki);
        await using var cluster = new LabCluster(overlay, images, secrets, root, Log);
        try
        {
            int shards = overlay.OfKind<V1StatefulSet>().Single(s => $"StatefulSet/{s.Metadata.Name}" == Redis).Spec.Replicas ?? 1;
            int gatewayReplicas = overlay.OfKind<V1Deployment>().Single(d => $"Deployment/{d.Metadata.Name}" == Gateway).Spec.Replicas ?? 1;
            var redis = Enumerable.Range(0, shards).Select(_ => cluster.StartPod(Redis)).ToList();
            var gateways = Enumerable.Range(0, gatewayReplicas).Select(_ => cluster.StartPod(Gateway)).ToList();
            var learner = cluster.StartPod(Learner);
            // `kubectl scale deployment/distsac-worker --replicas=1` before the run: start with one worker.
            var workers = new List<Pod> { cluster.StartPod(Worker) };
            foreach (var pod in cluster.Pods) await cluster.WaitReadyAsync(pod, PhaseTimeout);
            await AssertLivenessProbesPassAsync(cluster);
            await AssertRootIsReadOnlyAsync(cluster, workers[0], root);
            AssertNoSecretOnACommandLineOrInAnEnvironment(cluster, secrets);
            await AssertGatewaysSpeakOnlyMutualTlsAsync(overlay, gateways, workers, secrets);

            // Phase 1: one worker feeds the learner.
            var m = await WaitForLearnerAsync(cluster, learner, "1 worker: 1,500 env steps and 300 updates",
                x => x["distsac_env_steps"] >= 1_500 && x["distsac_updates_total"] >= 300 && x["distsac_workers_active"] == 1);
            Assert.Equal(1, m["distsac_workers_seen"]);

            // Phase 2: scale to 3 workers; the learner must see them (its count comes from the replay, via any gateway).
            workers.Add(cluster.StartPod(Worker));
            workers.Add(cluster.StartPod(Worker));
            foreach (var w in workers) await cluster.WaitReadyAsync(w, PhaseTimeout);
            m = await WaitForLearnerAsync(cluster, learner, "3 workers active", x => x["distsac_workers_active"] == 3 && x["distsac_workers_seen"] == 3);

            // Phase 3: SIGKILL one worker (what it had acknowledged must be stored) and one gateway replica.
            var victim = workers[1];
            var victimAcked = (long)(await cluster.ScrapeAsync(victim, "http-metrics"))["distsac_transitions_pushed_total"];
            await cluster.KillAsync(victim);
            Assert.True(victimAcked > 0, "the killed worker had acknowledged nothing: the check below would prove nothing");
            await cluster.KillAsync(gateways[0]);
            var survivor = gateways[1];
            double survivorPushes = (await cluster.ScrapeAsync(survivor, "http-metrics"))["distsac_gateway_pushes_total"];
            var before = await cluster.ScrapeAsync(learner, "http-metrics");
            double steps0 = before["distsac_env_steps"], updates0 = before["distsac_updates_total"];

            // Phase 4: training goes on through the one gateway left (the workers' round-robin drops the dead address).
            m = await WaitForLearnerAsync(cluster, learner, "training goes on after the kills: +1,500 env steps, +500 updates",
                x => x["distsac_env_steps"] >= steps0 + 1_500 && x["distsac_updates_total"] >= updates0 + 500);
            Assert.True((await cluster.ScrapeAsync(survivor, "http-metrics"))["distsac_gateway_pushes_total"] > survivorPushes);

            // Phase 5: the Deployments replace the deleted pods; the new worker joins.
            gateways.Add(cluster.StartPod(Gateway));
            workers.Add(cluster.StartPod(Worker));
            await cluster.WaitReadyAsync(gateways[^1], PhaseTimeout);
            await cluster.WaitReadyAsync(workers[^1], PhaseTimeout);
            m = await WaitForLearnerAsync(cluster, learner, "the replacement worker is counted", x => x["distsac_workers_seen"] == 4 && x["distsac_workers_active"] >= 3);

            // Phase 6: scale workers to 0 (SIGTERM: each flushes and reports what was acknowledged), then audit Redis.
            var acknowledged = await StopWorkersAsync(cluster, workers.Where(w => w != victim));
            await AuditReplayAsync(redis, secret["password"], runId, acknowledged, (victim.Name, victimAcked));

            // Phase 7: the learner stops cleanly with a checkpoint on its volume (SIGTERM is a normal end: exit 0);
            // gateways and Redis stop cleanly.
            Assert.Equal(0, await cluster.TerminateAsync(learner));
            var runs = learner.Launch.VolumeDirectories["/data/runs"];
            Assert.True(File.Exists(Path.Combine(runs, runId, "checkpoint", "learner.ckpt")), $"no checkpoint under {runs}");
            Assert.True(File.Exists(Path.Combine(runs, runId, "metrics.jsonl")));
            foreach (var g in gateways.Where(g => !g.HasExited)) Assert.Equal(0, await cluster.TerminateAsync(g));
            foreach (var r in redis) Assert.Equal(0, await cluster.TerminateAsync(r));
            AssertWithinMemoryLimits(cluster);
        }
        catch
        {
            foreach (var pod in cluster.Pods) Log($"--- {pod.Launch.Owner} {pod} (exited: {pod.HasExited}) log tail:\n{pod.LogTail(15)}");
            throw;
        }
    }

    /// <summary>Every liveness and startup probe in the manifest passes against the running pod (a wrong port or path would fail here).</summary>
    private static async Task AssertLivenessProbesPassAsync(LabCluster cluster)
    {
        foreach (var pod in cluster.Pods)
        {
            foreach (var probe in new[] { pod.Launch.Container.LivenessProbe, pod.Launch.Container.StartupProbe })
            {
                if (probe is not null) Assert.True(await cluster.ProbeAsync(pod, probe, CancellationToken.None), $"a liveness/startup probe of {pod} failed");
            }
        }
    }

    [Fact]
    public async Task Persistent_overlay_brings_a_killed_redis_shard_back_with_every_acknowledged_transition()
    {
        using var pki = TestPki.Create();
        var (overlay, runId, secret, secrets, root) = Prepare("persistent", pki);
        await using var cluster = new LabCluster(overlay, images, secrets, root, Log);
        try
        {
            int shards = overlay.OfKind<V1StatefulSet>().Single(s => $"StatefulSet/{s.Metadata.Name}" == Redis).Spec.Replicas ?? 1;
            Assert.True(shards >= 2, "the overlay needs a second shard to kill");
            var redis = Enumerable.Range(0, shards).Select(_ => cluster.StartPod(Redis)).ToList();
            var gateways = new List<Pod> { cluster.StartPod(Gateway), cluster.StartPod(Gateway) };
            var learner = cluster.StartPod(Learner);
            var workers = new List<Pod> { cluster.StartPod(Worker), cluster.StartPod(Worker) };
            foreach (var pod in cluster.Pods) await cluster.WaitReadyAsync(pod, PhaseTimeout);
            AssertNoSecretOnACommandLineOrInAnEnvironment(cluster, secrets);
            await WaitForLearnerAsync(cluster, learner, "2 workers: 1,500 env steps and 300 updates",
                x => x["distsac_env_steps"] >= 1_500 && x["distsac_updates_total"] >= 300);

            // SIGKILL shard 1's Redis; its StatefulSet pod comes back with the same name and claim but a new address.
            long before = await ShardTotalAsync(redis[1], secret["password"], runId, 1);
            await cluster.KillAsync(redis[1]);
            await Task.Delay(TimeSpan.FromSeconds(3)); // pushes to shard 1 fail meanwhile and are retried
            redis[1] = cluster.Restart(redis[1]);
            await cluster.WaitReadyAsync(redis[1], PhaseTimeout);
            long after = await ShardTotalAsync(redis[1], secret["password"], runId, 1);
            Log($"shard 1 held {before} transitions (total inserted) before SIGKILL and {after} after its restart from the append-only file");
            Assert.True(after >= before, $"shard 1 lost data across its restart: {before} -> {after}");

            var m = await cluster.ScrapeAsync(learner, "http-metrics");
            await WaitForLearnerAsync(cluster, learner, "training goes on after the shard restart: +1,500 env steps, +300 updates",
                x => x["distsac_env_steps"] >= m["distsac_env_steps"] + 1_500 && x["distsac_updates_total"] >= m["distsac_updates_total"] + 300);
            Assert.True(await ShardTotalAsync(redis[1], secret["password"], runId, 1) > after, "the restarted shard takes no new transitions");

            var acknowledged = await StopWorkersAsync(cluster, workers);
            await AuditReplayAsync(redis, secret["password"], runId, acknowledged, killed: null);

            Assert.Equal(0, await cluster.TerminateAsync(learner));
            foreach (var g in gateways) Assert.Equal(0, await cluster.TerminateAsync(g));
            foreach (var r in redis) Assert.Equal(0, await cluster.TerminateAsync(r));
            AssertWithinMemoryLimits(cluster);
        }
        catch
        {
            foreach (var pod in cluster.Pods) Log($"--- {pod.Launch.Owner} {pod} (exited: {pod.HasExited}) log tail:\n{pod.LogTail(15)}");
            throw;
        }
    }

    /// <summary>
    /// The rendered overlay, its run id, the random replay Secret (password, token), every Secret the manifests may mount
    /// (the replay one and the TLS ones of components/tls and components/mutual-tls, issued by <paramref name="pki"/>)
    /// and an empty lab directory.
    /// </summary>
    private (RenderedOverlay Overlay, string RunId, Dictionary<string, string> Secret, Dictionary<string, IReadOnlyDictionary<string, string>> Secrets, string Root)
        Prepare(string overlayName, TestPki pki)
    {
        Assert.True(NetworkLab.Unsupported() is null, NetworkLab.Unsupported());
        var overlay = RenderedOverlay.Load(overlayName);
        var config = overlay.OfKind<V1ConfigMap>().Single(c => c.Metadata.Name == "distsac-config").Data;
        var secret = new Dictionary<string, string>
        {
            ["password"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant(),
            ["token"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant(),
        };
        // Not under /tmp: each pod mounts its own emptyDir there.
        var root = $"/var/tmp/distsac-cluster-run-{overlayName}";
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
        Log($"overlay {overlayName}: images published by deploy/docker/publish.sh in {images.PublishSeconds:F0} s; pod logs and volumes under {root}");
        return (overlay, config["DISTSAC_REPLAY__RUNID"], secret, TlsSecrets(pki, secret, GatewayHost(overlay), overlay.OfKind<V1Namespace>().Single().Metadata.Name), root);
    }

    private static async Task<long> ShardTotalAsync(Pod redis, string password, string runId, int shard)
    {
        await using var connection = await ConnectRedisAsync(redis, password);
        var total = await connection.GetDatabase().HashGetAsync($"distsac:{runId}:shard:{shard}:state", "total");
        return total.IsNull ? 0 : (long)total;
    }
}
