using DistSac.Observability;
using System.Diagnostics;
using System.Globalization;
using DistSac.Testing;
using Xunit.Abstractions;

namespace DistSac.Images.Tests;

/// <summary>
/// A small run made only of containers on a network the test creates: one Redis shard, a replay gateway and a worker
/// from the slim image, the learner from the learner image, configured by environment as the manifests configure the
/// pods (ConfigMap keys, the Secret as a read-only mounted directory). Transitions must be stored and the learner must
/// update; then each container gets SIGTERM (podman stop) and must exit 0 within its pod's grace period.
/// </summary>
[Collection(BuiltImagesCollection.Name)]
[Trait("Category", "Images")]
public sealed class ContainerizedRunTests(BuiltImages images, ITestOutputHelper output)
{
    // terminationGracePeriodSeconds in deploy/k8s/base/*.yaml (Redis: the Kubernetes default).
    private const int WorkerGraceSeconds = 30, GatewayGraceSeconds = 30, LearnerGraceSeconds = 60, RedisGraceSeconds = 30;

    [Fact]
    public async Task Containers_store_transitions_the_learner_updates_and_each_stops_cleanly_on_sigterm()
    {
        Assert.True(images.BuildSeconds >= 0);
        await using var scope = await ContainerScope.CreateAsync();
        var secrets = scope.Directory("secrets", ownedByImageUser: false);
        var password = Convert.ToHexString(Guid.NewGuid().ToByteArray());
        File.WriteAllText(Path.Combine(secrets, "password"), password);
        File.WriteAllText(Path.Combine(secrets, "token"), Convert.ToHexString(Guid.NewGuid().ToByteArray()));
        foreach (var file in Directory.EnumerateFiles(secrets)) File.SetUnixFileMode(file, (UnixFileMode)0b110_100_100);
        var runs = scope.Directory("runs", ownedByImageUser: true);
        string[] secretMount = ["--volume", $"{secrets}:/var/run/secrets/distsac:ro"];

        // As deploy/k8s/base/configmap.yaml, scaled down: one shard, small networks, one learner thread.
        var config = new Dictionary<string, string>
        {
            ["DISTSAC_REPLAY__RUNID"] = "images-0",
            ["DISTSAC_REPLAY__SHARDS__0"] = "redis:6379",
            ["DISTSAC_REPLAY__CAPACITYPERSHARD"] = "100000",
            ["DISTSAC_REPLAY__CONNECTTIMEOUTMS"] = "5000",
            ["DISTSAC_GATEWAY__LISTEN"] = "http://0.0.0.0:50051",
            ["DISTSAC_GATEWAY__HTTPLISTEN"] = "http://0.0.0.0:9090",
            ["DISTSAC_LEARNER__ENV"] = "Pendulum-v1",
            ["DISTSAC_LEARNER__SEED"] = "0",
            ["DISTSAC_LEARNER__STEPS"] = "200000",
            ["DISTSAC_LEARNER__WARMUPTRANSITIONS"] = "256",
            ["DISTSAC_LEARNER__UPDATESPERTRANSITION"] = "1",
            ["DISTSAC_LEARNER__RATELIMITTOLERANCE"] = "256",
            ["DISTSAC_LEARNER__RUNSROOT"] = "/data/runs",
            ["DISTSAC_LEARNER__HTTPLISTEN"] = "http://0.0.0.0:9091",
            ["DISTSAC_LEARNER__THREADS"] = "1",
            ["DISTSAC_LEARNER__DEVICE"] = "cpu",
            ["DISTSAC_SAC__HIDDENSIZES__0"] = "64",
            ["DISTSAC_SAC__HIDDENSIZES__1"] = "64",
            ["DISTSAC_SAC__BATCHSIZE"] = "64",
            ["DISTSAC_WORKER__GATEWAY"] = "http://gateway:50051",
            ["DISTSAC_WORKER__ENVS"] = "2",
            ["DISTSAC_WORKER__SHUTDOWNFLUSHTIMEOUTMS"] = "5000",
            ["DISTSAC_WORKER__HTTPLISTEN"] = "http://0.0.0.0:9092",
            ["DISTSAC_REPLAY__PASSWORDFILE"] = "/var/run/secrets/distsac/password",
            ["DISTSAC_GATEWAY__TOKENFILE"] = "/var/run/secrets/distsac/token",
            ["DISTSAC_WORKER__TOKENFILE"] = "/var/run/secrets/distsac/token",
        };

        // One container at a time, each once the one before answers (as readiness probes would gate traffic): the
        // gateway and the learner exit when their shard does not answer at start (a pod would be restarted), and a
        // name looked up while aardvark-dns reloads for a container joining the network can fail.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var redis = await StartRedisAsync(scope, password);
        await WaitForTcpAsync(await ContainerScope.AddressAsync(redis, scope.Network), 6379, TimeSpan.FromSeconds(30));
        var gateway = await scope.StartAsync("gateway", BuiltImages.Slim, ["replay"], config, secretMount);
        await WaitForHealthzAsync(http, gateway, $"http://{await ContainerScope.AddressAsync(gateway, scope.Network)}:9090/healthz");
        var learner = await scope.StartAsync("learner", BuiltImages.Learner, ["learner"], config,
            [.. secretMount, "--volume", $"{runs}:/data/runs"]);
        var learnerAddress = await ContainerScope.AddressAsync(learner, scope.Network);
        // /readyz: the learner reached its shard and created the run (the worker would otherwise retry until it has).
        await WaitForHealthzAsync(http, learner, $"http://{learnerAddress}:9091/readyz");
        var worker = await scope.StartAsync("worker", BuiltImages.Slim, ["worker"], config, secretMount);

        foreach (var container in new[] { gateway, learner, worker })
        {
            var (uid, gid) = await ContainerScope.ProcessIdsAsync(container);
            Assert.True(uid == 1654 && gid == 1654, $"{container} runs as {uid}:{gid}, not the image's 1654:1654");
            Assert.Equal("true", await Podman.CheckedAsync("inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", container));
        }

        // The host reaches the containers by their addresses on the test's network; nothing else is published.
        var learnerMetrics = $"http://{learnerAddress}:9091/metrics";
        var workerMetrics = $"http://{await ContainerScope.AddressAsync(worker, scope.Network)}:9092/metrics";
        var clock = Stopwatch.StartNew();
        Dictionary<string, double> metrics = [];
        while (clock.Elapsed < TimeSpan.FromMinutes(3))
        {
            metrics = await TryMetricsAsync(http, learnerMetrics);
            if (metrics.GetValueOrDefault("distsac_updates_total") >= 300) break;
            if (!await ContainerScope.IsRunningAsync(gateway) || !await ContainerScope.IsRunningAsync(learner) || !await ContainerScope.IsRunningAsync(worker)) break;
            await Task.Delay(1000);
        }
        var logs = await ContainerScope.DiagnosticsAsync([redis, gateway, worker, learner]);
        Assert.True(metrics.GetValueOrDefault("distsac_updates_total") >= 300,
            $"the learner did not reach 300 updates in {clock.Elapsed.TotalSeconds:F0} s; metrics: {string.Join(", ", metrics.Where(m => m.Key.StartsWith("distsac_", StringComparison.Ordinal)).Select(m => $"{m.Key}={m.Value}"))}\n{logs}");
        Assert.True(metrics.GetValueOrDefault("distsac_replay_fill{shard=\"0\"}") > 0, logs);
        var pushed = (await TryMetricsAsync(http, workerMetrics)).GetValueOrDefault("distsac_transitions_pushed_total");
        Assert.True(pushed > 0, $"the worker reports no acknowledged transitions\n{logs}");
        output.WriteLine($"learner: {metrics["distsac_updates_total"]} updates, {metrics.GetValueOrDefault("distsac_env_steps")} env steps after {clock.Elapsed.TotalSeconds:F1} s; worker acknowledged {pushed}");

        // SIGTERM in the order a rollout would stop them; each must exit 0 inside its grace period (podman stop
        // sends SIGKILL after --time, which would show as exit 137).
        foreach (var (container, grace) in new[] { (worker, WorkerGraceSeconds), (learner, LearnerGraceSeconds), (gateway, GatewayGraceSeconds), (redis, RedisGraceSeconds) })
        {
            var stopClock = Stopwatch.StartNew();
            await Podman.CheckedAsync("stop", "--time", grace.ToString(CultureInfo.InvariantCulture), container);
            var seconds = stopClock.Elapsed.TotalSeconds;
            var exit = await Podman.CheckedAsync("inspect", "--format", "{{.State.ExitCode}}", container);
            var log = await ContainerScope.LogsAsync(container);
            Assert.True(exit == "0" && seconds < grace, $"{container} exited {exit} {seconds:F1} s after SIGTERM (grace {grace} s):\n{log}");
            output.WriteLine($"{container}: exit 0 {seconds:F1} s after SIGTERM");
        }
        // The learner wrote its checkpoint on the volume when it stopped.
        Assert.True(File.Exists(Path.Combine(runs, "images-0", "checkpoint", "learner.ckpt")),
            $"no learner.ckpt under {runs}/images-0: {string.Join(", ", Directory.EnumerateFiles(runs, "*", SearchOption.AllDirectories))}");
    }

    /// <summary>
    /// Redis as a container on the test's network: no Redis image can be pulled here, so this machine's redis-server and
    /// the libraries it links are mounted read-only into the slim image's base (same Debian 13 glibc).
    /// </summary>
    private static async Task<string> StartRedisAsync(ContainerScope scope, string password)
    {
        var baseImage = await Podman.CheckedAsync("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=localhost/distsac-base");
        var mounts = new List<string> { "--volume", $"{Path.GetFullPath(ResolveLink(RedisServer.DefaultExecutable))}:/usr/local/bin/redis-server:ro" };
        foreach (var (soname, file) in LinkedLibraries(RedisServer.DefaultExecutable))
            mounts.AddRange(["--volume", $"{file}:/opt/redis/lib/{soname}:ro"]);
        mounts.AddRange(["--user", "1654:1654", "--entrypoint", "/usr/local/bin/redis-server"]);
        var container = await scope.StartAsync("redis", baseImage.Split('\n')[0],
            ["--port", "6379", "--bind", "0.0.0.0", "--save", "", "--appendonly", "no", "--dir", "/tmp", "--requirepass", password],
            new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = "/opt/redis/lib" }, mounts);
        return container;
    }

    private static async Task WaitForHealthzAsync(HttpClient http, string container, string url)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60) && await ContainerScope.IsRunningAsync(container))
        {
            try
            {
                using var response = await http.GetAsync(new Uri(url));
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(250);
        }
        throw new InvalidOperationException($"{container}: {url} did not answer 2xx within {clock.Elapsed.TotalSeconds:F0} s:\n{await ContainerScope.DiagnosticsAsync([container], tailLines: 80)}");
    }

    private static async Task WaitForTcpAsync(string address, int port, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var client = new System.Net.Sockets.TcpClient();
            try
            {
                await client.ConnectAsync(System.Net.IPAddress.Parse(address), port);
                return;
            }
            catch (System.Net.Sockets.SocketException) when (clock.Elapsed < timeout)
            {
                await Task.Delay(200);
            }
        }
    }

    private static string ResolveLink(string path) => new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;

    /// <summary>The shared libraries ldd resolves for an executable, except glibc's own (the image has them).</summary>
    private static List<(string Soname, string File)> LinkedLibraries(string executable)
    {
        var psi = new ProcessStartInfo("ldd", [executable]) { RedirectStandardOutput = true };
        using var ldd = Process.Start(psi) ?? throw new InvalidOperationException("Could not start ldd.");
        var text = ldd.StandardOutput.ReadToEnd();
        ldd.WaitForExit();
        var libraries = new List<(string, string)>();
        foreach (var line in text.Split('\n'))
        {
            var parts = line.Trim().Split(' ');
            if (parts.Length < 3 || parts[1] != "=>" || !parts[2].StartsWith('/')) continue;
            if (parts[0] is "libc.so.6" or "libm.so.6") continue;
            libraries.Add((parts[0], ResolveLink(parts[2])));
        }
        return libraries;
    }

    private static async Task<Dictionary<string, double>> TryMetricsAsync(HttpClient http, string url)
    {
        try
        {
            return PrometheusText.Parse(await http.GetStringAsync(new Uri(url)));
        }
        catch (HttpRequestException)
        {
            return [];
        }
        catch (TaskCanceledException)
        {
            return [];
        }
    }
}
