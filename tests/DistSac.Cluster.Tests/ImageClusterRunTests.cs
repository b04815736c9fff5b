using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using DistSac.Deploy.Tests;
using DistSac.Observability;
using DistSac.Testing;
using k8s.Models;
using StackExchange.Redis;
using Xunit.Abstractions;

using static DistSac.Cluster.Tests.ClusterWorkloads;

namespace DistSac.Cluster.Tests;

/// <summary>
/// The rendered persistent overlay run on the built images (<see cref="KubePlayCluster"/>: `podman kube play`, one pod
/// per pod, on a network the test creates): what only an image can break. Every process runs as the manifest's non-root
/// UID/GID with a read-only root, from the image's entrypoint with the manifest's args, configured by the ConfigMap and
/// by Secret files; every probe answers; Pendulum-v1 trains (updates grow, the worker's acknowledged transitions are in
/// Redis); SIGTERM with each pod's grace period ends every container with exit 0 and leaves the learner's checkpoint
/// on its claim.
/// </summary>
[Collection(ContainerImagesCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class ImageClusterRunTests(ContainerImages images, ITestOutputHelper output)
{
    private static readonly TimeSpan PhaseTimeout = TimeSpan.FromSeconds(240);
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    [Fact]
    public async Task Persistent_overlay_runs_on_the_images_as_the_manifests_say_and_stops_cleanly_on_sigterm()
    {
        var overlay = RenderedOverlay.Load("persistent");
        var config = overlay.OfKind<V1ConfigMap>().Single(c => c.Metadata.Name == "distsac-config").Data;
        var runId = config["DISTSAC_REPLAY__RUNID"];
        var replay = new Dictionary<string, string>
        {
            ["password"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant(),
            ["token"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant(),
        };
        var secrets = new Dictionary<string, IReadOnlyDictionary<string, string>> { ["distsac-replay"] = replay };
        Log($"images built or reused in {images.BuildSeconds:F0} s; redis stand-in {images.RedisImage}; build-images.sh:\n{images.BuildLog.TrimEnd()}");
        await using var cluster = await KubePlayCluster.CreateAsync(overlay, images, secrets, Log);
        try
        {
            // Redis first (the gateways and the learner exit when a shard does not answer at start, where Kubernetes
            // would restart them); then the rest together, as a rollout starts them, and each must become ready (the
            // gateways only once the learner has written the run's metadata).
            int shards = overlay.OfKind<V1StatefulSet>().Single(s => $"StatefulSet/{s.Metadata.Name}" == Redis).Spec.Replicas ?? 1;
            int gatewayReplicas = overlay.OfKind<V1Deployment>().Single(d => $"Deployment/{d.Metadata.Name}" == Gateway).Spec.Replicas ?? 1;
            var redis = new List<ContainerPod>();
            for (int i = 0; i < shards; i++) redis.Add(await cluster.StartPodAsync(Redis));
            foreach (var pod in redis) await cluster.WaitReadyAsync(pod, PhaseTimeout);
            var gateways = new List<ContainerPod>();
            for (int i = 0; i < gatewayReplicas; i++) gateways.Add(await cluster.StartPodAsync(Gateway));
            var learner = await cluster.StartPodAsync(Learner);
            // `kubectl scale deployment/distsac-worker --replicas=1`: two cores are shared here.
            var worker = await cluster.StartPodAsync(Worker);
            foreach (var pod in cluster.Pods) await cluster.WaitReadyAsync(pod, PhaseTimeout);

            foreach (var pod in cluster.Pods)
            {
                await AssertRunsAsTheManifestSaysAsync(pod);
                await AssertLivenessAndStartupProbesPassAsync(cluster, pod);
                await AssertNoSecretOnTheCommandLineOrInTheEnvironmentAsync(pod, replay.Values);
            }
            await AssertConfigMapIsTheEnvironmentAsync(learner, config);

            // Training through the images: updates grow, the worker's pushes are acknowledged and stored.
            var m = await WaitForLearnerAsync(learner, "1,500 env steps and 300 updates", x => x.GetValueOrDefault("distsac_env_steps") >= 1_500 && x.GetValueOrDefault("distsac_updates_total") >= 300);
            double updates0 = m["distsac_updates_total"];
            await WaitForLearnerAsync(learner, "updates grow by 200", x => x.GetValueOrDefault("distsac_updates_total") >= updates0 + 200);
            var pushed = (await ScrapeAsync(worker, "http-metrics")).GetValueOrDefault("distsac_transitions_pushed_total");
            Assert.True(pushed > 0, $"the worker reports no acknowledged transitions:\n{await KubePlayCluster.LogsAsync(worker)}");

            // SIGTERM in a rollout's order, each within its grace period: the worker flushes and reports what it pushed.
            await AssertTerminatesCleanlyAsync(cluster, worker);
            var stopped = WorkerStopped().Match(await KubePlayCluster.LogsAsync(worker));
            Assert.True(stopped.Success, $"worker {worker} did not log its final counts:\n{await KubePlayCluster.LogsAsync(worker)}");
            long steps = long.Parse(stopped.Groups[1].Value, CultureInfo.InvariantCulture), acked = long.Parse(stopped.Groups[2].Value, CultureInfo.InvariantCulture);
            long stored = await StoredForAsync(redis, replay["password"], runId, worker.Name);
            Log($"worker {worker.Name}: stepped {steps}, acknowledged {acked}, stored in Redis {stored}");
            Assert.True(acked > 0, "the worker had acknowledged nothing: the audit below would prove nothing");
            if (steps == acked) Assert.Equal(acked, stored);
            else Assert.True(stored >= acked, $"{acked} acknowledged but {stored} stored");

            await AssertTerminatesCleanlyAsync(cluster, learner);
            var runs = await KubePlayCluster.VolumeDirectoryAsync(learner, "/data/runs");
            var checkpoint = Path.Combine(runs, runId, "checkpoint", "learner.ckpt");
            Assert.True(File.Exists(checkpoint), $"no learner checkpoint on the claim: {string.Join(", ", Directory.EnumerateFiles(runs, "*", SearchOption.AllDirectories))}");
            // Written by the container's user on the claim podman made for it (volume.podman.io/uid).
            Assert.Equal(learner.PodSpec.SecurityContext.RunAsUser?.ToString(CultureInfo.InvariantCulture), Tool.Run("stat", ["-c", "%u", checkpoint]).Stdout.Trim());
            foreach (var pod in gateways.Concat(redis)) await AssertTerminatesCleanlyAsync(cluster, pod);
            // Redis's append-only file is on the shard's claim (components/redis-persistence).
            foreach (var pod in redis)
                Assert.NotEmpty(Directory.EnumerateFiles(await KubePlayCluster.VolumeDirectoryAsync(pod, "/data"), "*", SearchOption.AllDirectories));
        }
        catch
        {
            foreach (var pod in cluster.Pods)
            {
                var log = (await KubePlayCluster.LogsAsync(pod)).Split('\n');
                Log($"--- {pod.Owner} {pod} log tail:\n{string.Join('\n', log.Skip(Math.Max(0, log.Length - 15)))}");
            }
            throw;
        }
    }

    /// <summary>
    /// The container's process is the image's entrypoint (or the manifest's command) with the manifest's args, runs as
    /// the manifest's non-root UID/GID (read from /proc on the host), and its root is mounted read-only while its
    /// writable volumes are not (/proc/PID/mountinfo).
    /// </summary>
    private async Task AssertRunsAsTheManifestSaysAsync(ContainerPod pod)
    {
        var pid = await KubePlayCluster.PidAsync(pod);
        long uid = -1, gid = -1;
        foreach (var line in await File.ReadAllLinesAsync($"/proc/{pid}/status"))
        {
            // "Uid:\treal\teffective\tsaved\tfs"
            if (line.StartsWith("Uid:", StringComparison.Ordinal)) uid = long.Parse(line.Split('\t')[2], CultureInfo.InvariantCulture);
            if (line.StartsWith("Gid:", StringComparison.Ordinal)) gid = long.Parse(line.Split('\t')[2], CultureInfo.InvariantCulture);
        }
        long wantUid = pod.Spec.SecurityContext?.RunAsUser ?? pod.PodSpec.SecurityContext.RunAsUser ?? -1;
        long wantGid = pod.Spec.SecurityContext?.RunAsGroup ?? pod.PodSpec.SecurityContext.RunAsGroup ?? -1;
        Assert.True(wantUid > 0, $"{pod.Owner}: the manifest sets no non-root runAsUser");
        Assert.True(uid == wantUid && gid == wantGid, $"{pod} runs as {uid}:{gid}, the manifest says {wantUid}:{wantGid}");

        var argv = (await File.ReadAllTextAsync($"/proc/{pid}/cmdline")).TrimEnd('\0').Split('\0');
        var image = await Podman.CheckedAsync("inspect", "--format", "{{.ImageName}}", pod.Container);
        var entrypoint = JsonSerializer.Deserialize<string[]?>(await Podman.CheckedAsync("image", "inspect", "--format", "{{json .Config.Entrypoint}}", image)) ?? [];
        if (pod.Spec.Command is not { Count: > 0 })
        {
            // The image's ENTRYPOINT with the manifest's args: exactly what the process was started with.
            string[] want = [.. entrypoint, .. pod.Spec.Args ?? []];
            Assert.True(want.SequenceEqual(argv), $"{pod} runs `{string.Join(' ', argv)}`, the image and manifest say `{string.Join(' ', want)}`");
        }
        else
        {
            // The manifest's command (Redis: a shell script that ends in `exec redis-server ...`) exec'd the program it names
            // (redis-server rewrites its own command line, so the executable is what is compared).
            var program = Path.GetFileName(new FileInfo($"/proc/{pid}/exe").LinkTarget ?? "");
            Assert.True(program.Length > 0 && string.Join(' ', pod.Spec.Command).Contains("exec " + program, StringComparison.Ordinal),
                $"{pod} runs '{program}', which its command `{string.Join(' ', pod.Spec.Command)}` does not exec");
        }

        var mounts = (await File.ReadAllLinesAsync($"/proc/{pid}/mountinfo")).Select(l => l.Split(' ')).ToDictionary(f => f[4], f => f[5], StringComparer.Ordinal);
        Assert.True(pod.Spec.SecurityContext?.ReadOnlyRootFilesystem == true, $"{pod.Owner}: the manifest does not ask for a read-only root");
        Assert.StartsWith("ro", mounts["/"]);
        foreach (var mount in pod.Spec.VolumeMounts ?? [])
            Assert.StartsWith(mount.ReadOnlyProperty == true ? "ro" : "rw", mounts[mount.MountPath]);
        Log($"{pod.Name}: pid {pid} runs as {uid}:{gid}, `{string.Join(' ', argv.Take(3))}{(argv.Length > 3 ? " ..." : "")}`, root read-only, {pod.Spec.VolumeMounts?.Count ?? 0} volumes as mounted");
    }

    private async Task AssertLivenessAndStartupProbesPassAsync(KubePlayCluster cluster, ContainerPod pod)
    {
        foreach (var (kind, probe) in new[] { ("liveness", pod.Spec.LivenessProbe), ("startup", pod.Spec.StartupProbe), ("readiness", pod.Spec.ReadinessProbe) })
        {
            if (probe is not null) Assert.True(await cluster.ProbeAsync(pod, probe, CancellationToken.None), $"the {kind} probe of {pod} failed");
        }
    }

    /// <summary>Secrets arrive as files only: no value in the process's command line or environment.</summary>
    private static async Task AssertNoSecretOnTheCommandLineOrInTheEnvironmentAsync(ContainerPod pod, IEnumerable<string> values)
    {
        var pid = await KubePlayCluster.PidAsync(pod);
        var cmdline = (await File.ReadAllTextAsync($"/proc/{pid}/cmdline")).Replace('\0', ' ');
        var environ = await File.ReadAllTextAsync($"/proc/{pid}/environ");
        foreach (var value in values)
        {
            Assert.False(cmdline.Contains(value, StringComparison.Ordinal), $"{pod}: a secret value is on its command line");
            Assert.False(environ.Contains(value, StringComparison.Ordinal), $"{pod}: a secret value is in its environment");
        }
    }

    /// <summary>envFrom: every key of the ConfigMap is in the container's environment with its value.</summary>
    private static async Task AssertConfigMapIsTheEnvironmentAsync(ContainerPod pod, IDictionary<string, string> config)
    {
        var environ = (await File.ReadAllTextAsync($"/proc/{await KubePlayCluster.PidAsync(pod)}/environ")).Split('\0').ToHashSet(StringComparer.Ordinal);
        foreach (var (key, value) in config)
            Assert.True(environ.Contains($"{key}={value}"), $"{pod}: {key}={value} from the ConfigMap is not in its environment");
    }

    private async Task AssertTerminatesCleanlyAsync(KubePlayCluster cluster, ContainerPod pod)
    {
        var (exit, seconds) = await cluster.TerminateAsync(pod);
        Assert.True(exit == 0 && seconds < pod.GraceSeconds,
            $"{pod} exited {exit} {seconds:F1} s after SIGTERM (grace {pod.GraceSeconds} s):\n{await KubePlayCluster.LogsAsync(pod)}");
    }

    private async Task<Dictionary<string, double>> WaitForLearnerAsync(ContainerPod learner, string what, Func<Dictionary<string, double>, bool> done)
    {
        var deadline = _clock.Elapsed + PhaseTimeout;
        Dictionary<string, double> m = [];
        while (_clock.Elapsed < deadline)
        {
            if (!await KubePlayCluster.IsRunningAsync(learner)) Assert.Fail($"the learner exited ({await KubePlayCluster.StateAsync(learner)}):\n{await KubePlayCluster.LogsAsync(learner)}");
            try
            {
                m = await ScrapeAsync(learner, "http-metrics");
            }
            catch (HttpRequestException)
            {
            }
            if (done(m))
            {
                Log($"{what}: env steps {m["distsac_env_steps"]}, updates {m["distsac_updates_total"]}, workers active {m.GetValueOrDefault("distsac_workers_active")}");
                return m;
            }
            await Task.Delay(1000);
        }
        throw new TimeoutException($"{what}: not reached within {PhaseTimeout}; last learner metrics: env steps {m.GetValueOrDefault("distsac_env_steps")}, updates {m.GetValueOrDefault("distsac_updates_total")}");
    }

    private static async Task<Dictionary<string, double>> ScrapeAsync(ContainerPod pod, string portName)
    {
        var port = pod.Spec.Ports.Single(p => p.Name == portName).ContainerPort;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        return PrometheusText.Parse(await http.GetStringAsync(new Uri($"http://{pod.Address}:{port}/metrics")));
    }

    /// <summary>What the shards' insert script counted for one worker pod (worker ids are "hostname-pid-random"; the hostname is the pod name).</summary>
    private static async Task<long> StoredForAsync(IReadOnlyList<ContainerPod> redis, string password, string runId, string podName)
    {
        long stored = 0;
        for (int i = 0; i < redis.Count; i++)
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
            {
                EndPoints = { $"{redis[i].Address}:6379" }, Password = password, AbortOnConnectFail = true,
            });
            foreach (var e in await connection.GetDatabase().HashGetAllAsync($"distsac:{runId}:shard:{i}:workers"))
            {
                if (WorkerIdPod().Match((string)e.Name!) is { Success: true } m && m.Groups[1].Value == podName) stored += (long)e.Value;
            }
        }
        return stored;
    }

    private void Log(string line)
    {
        var text = $"[{_clock.Elapsed.TotalSeconds,6:F1}s] {line}";
        output.WriteLine(text);
        Console.WriteLine(text);
    }
}
