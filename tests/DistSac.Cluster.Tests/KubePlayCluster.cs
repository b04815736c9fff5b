using System.Globalization;
using DistSac.Deploy.Tests;
using DistSac.Testing;
using k8s;
using k8s.Models;

namespace DistSac.Cluster.Tests;

/// <summary>One pod of the rendered overlay running as a podman pod (infra container + the pod's one container).</summary>
/// <param name="Spec">The manifest's container as written (probes included; podman got it without them).</param>
/// <param name="Claims">mountPath -> the podman volume behind a claim or emptyDir.</param>
public sealed record ContainerPod(
    string Name, string Owner, string Container, V1Container Spec, V1PodSpec PodSpec, string Address,
    IReadOnlyDictionary<string, string> Claims)
{
    public int GraceSeconds => (int)(PodSpec.TerminationGracePeriodSeconds ?? 30);
    public override string ToString() => $"{Name} ({Address})";
}

/// <summary>
/// The rendered overlay run on the built images: one podman pod per pod, made by `podman kube play` from a Pod that the
/// harness derives from the Deployment's or StatefulSet's template, on an internal podman network the test creates.
/// What podman 4.3 (Debian 12) consumes directly: the Pod (image, command/args, env, envFrom of the ConfigMaps, which
/// go into the same YAML, runAsUser/runAsGroup, readOnlyRootFilesystem, capabilities, allowPrivilegeEscalation,
/// resources) and PersistentVolumeClaims (as podman volumes, owned by the pod's user and fsGroup through the
/// volume.podman.io/uid and gid annotations). What the harness maps (docs/kubernetes.md):
/// - StatefulSets: pods named name-0, name-1, ..., each with its claims from volumeClaimTemplates (claim-pod);
///   Deployments: name-xxxxx. The test starts them in order, each once the one before is ready (replicas as scaled).
/// - Services: network aliases of the pod: the Service name (and its .ns, .ns.svc, .ns.svc.cluster.local forms) for
///   every Service whose selector matches, and pod.service for a StatefulSet's governing Service. DNS (aardvark-dns)
///   answers every member's address, like a headless Service; there is no virtual IP, and the aliases are fixed at pod
///   start (no endpoints controller removing a pod that is not ready).
/// - Secrets: projected by the harness into a directory per pod and volume (items, defaultMode, owner root and group
///   fsGroup, as the kubelet writes them) and mounted read-only as hostPath; podman 4.3 ignores kind: Secret and its
///   secret volumes drop items and defaultMode.
/// - emptyDir: a claim per pod (podman 4.3 names an emptyDir's volume after the volume alone, so every pod would share
///   /tmp); medium: Memory becomes a tmpfs volume of sizeLimit.
/// - Probes: stripped from what podman gets (it would turn a liveness httpGet into a curl inside the image, which has
///   none, and ignores readiness); the harness runs them from the host as the kubelet does: httpGet, grpc and tcpSocket
///   against the pod's address, exec with `podman exec` in the container.
/// - terminationGracePeriodSeconds: `podman stop --time` with it (SIGTERM, SIGKILL at the end of the grace period).
/// - restartPolicy: Never, so a container that exits fails the test instead of restarting.
/// - ports: dropped from what podman gets: podman 4.3 publishes every containerPort on the host (hostPort defaults to
///   containerPort), which a Pod does not do and which would put the pods on the machine's interfaces.
/// </summary>
public sealed class KubePlayCluster : IAsyncDisposable
{
    private readonly RenderedOverlay _overlay;
    private readonly ContainerImages _images;
    private readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> _secrets;
    private readonly Action<string> _log;
    private readonly List<ContainerPod> _pods = [];
    private readonly HashSet<string> _volumes = new(StringComparer.Ordinal);
    private readonly List<string> _podNames = [];
    private readonly Dictionary<string, int> _ordinals = new(StringComparer.Ordinal);

    private KubePlayCluster(RenderedOverlay overlay, ContainerImages images,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> secrets, string id, Action<string> log)
    {
        _overlay = overlay;
        _images = images;
        _secrets = secrets;
        _log = log;
        Id = id;
        Network = "distsac-kube-" + id;
        Root = Path.Combine("/var/tmp", Network);
    }

    public string Id { get; }
    public string Network { get; }

    /// <summary>Where the harness writes the pods' YAML and projected Secrets.</summary>
    public string Root { get; }

    public string Namespace => _overlay.OfKind<V1Namespace>().Single().Metadata.Name;
    public IReadOnlyList<ContainerPod> Pods => _pods;

    /// <param name="secrets">The Secrets the pods mount: name -> key -> value (what `kubectl create secret` would hold).</param>
    public static async Task<KubePlayCluster> CreateAsync(RenderedOverlay overlay, ContainerImages images,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> secrets, Action<string> log)
    {
        var cluster = new KubePlayCluster(overlay, images, secrets, Guid.NewGuid().ToString("N")[..8], log);
        Directory.CreateDirectory(cluster.Root);
        File.SetUnixFileMode(cluster.Root, (UnixFileMode)0b111_101_101);
        // Internal: no route off this machine; the host reaches the pods by their addresses on it.
        await Podman.CheckedAsync("network", "create", "--internal", "--label", "distsac.test=" + cluster.Id, cluster.Network);
        return cluster;
    }

    /// <summary>Starts the next pod of a StatefulSet (name-ordinal) or Deployment (name-random), as its controller would.</summary>
    public async Task<ContainerPod> StartPodAsync(string owner)
    {
        var (_, ns, template) = _overlay.PodTemplates().Single(t => t.Owner == owner);
        var podName = NextName(owner);
        var spec = KubernetesYaml.Deserialize<V1PodSpec>(KubernetesYaml.Serialize(template.Spec));
        if (spec.Containers.Count != 1 || spec.InitContainers is { Count: > 0 })
            throw new NotSupportedException($"{owner}: the run models pods with exactly one container.");
        var manifestContainer = template.Spec.Containers[0];
        var container = spec.Containers[0];
        container.Image = _images.For(container.Image);
        container.LivenessProbe = container.ReadinessProbe = container.StartupProbe = null;
        // Pod-to-pod traffic needs no declared ports, and podman 4.3 would publish every containerPort on the host's
        // interfaces (it takes a missing hostPort as equal to containerPort); named ports resolve from the manifest.
        container.Ports = null;
        spec.Hostname = podName;
        spec.RestartPolicy = "Never";

        long uid = container.SecurityContext?.RunAsUser ?? spec.SecurityContext?.RunAsUser ?? 0;
        long group = spec.SecurityContext?.FsGroup ?? container.SecurityContext?.RunAsGroup ?? spec.SecurityContext?.RunAsGroup ?? uid;
        var claims = new List<V1PersistentVolumeClaim>();
        var volumes = new List<V1Volume>();
        foreach (var volume in spec.Volumes ?? [])
        {
            if (volume.Secret is { } secret)
                volumes.Add(new V1Volume { Name = volume.Name, HostPath = new V1HostPathVolumeSource { Path = ProjectSecret(owner, podName, volume.Name, secret, group), Type = "Directory" } });
            else if (volume.EmptyDir is { } emptyDir)
                volumes.Add(Claimed(volume.Name, $"{Network}-{podName}-{volume.Name}", uid, group, emptyDir.Medium == "Memory" ? emptyDir.SizeLimit : null, claims));
            else
                throw new NotSupportedException($"{owner}: volume '{volume.Name}' is neither a Secret nor an emptyDir; the run maps only those and volumeClaimTemplates.");
        }
        foreach (var claim in _overlay.OfKind<V1StatefulSet>().SingleOrDefault(s => $"StatefulSet/{s.Metadata.Name}" == owner)?.Spec.VolumeClaimTemplates ?? [])
            volumes.Add(Claimed(claim.Metadata.Name, $"{Network}-{claim.Metadata.Name}-{podName}", uid, group, null, claims));
        spec.Volumes = volumes;

        var pod = new V1Pod
        {
            ApiVersion = "v1", Kind = "Pod",
            Metadata = new V1ObjectMeta { Name = podName, Labels = template.Metadata.Labels },
            Spec = spec,
        };
        var documents = _overlay.OfKind<V1ConfigMap>().Where(c => c.Metadata.NamespaceProperty == ns).Select(c => KubernetesYaml.Serialize(c))
            .Concat(claims.Select(c => KubernetesYaml.Serialize(c)))
            .Append(KubernetesYaml.Serialize(pod));
        var yamlPath = Path.Combine(Root, podName + ".yaml");
        File.WriteAllText(yamlPath, string.Join("---\n", documents.Select(d => d.TrimEnd() + "\n")));
        var aliases = Aliases(owner, podName, ns, template.Metadata.Labels);
        // Recorded before the play so that a play failing half-way is still cleaned up.
        foreach (var claim in claims) _volumes.Add(claim.Metadata.Name);
        _podNames.Add(podName);
        await Podman.CheckedAsync("kube", "play", "--network", $"{Network}:{string.Join(',', aliases.Select(a => "alias=" + a))}", yamlPath);

        var infra = await Podman.CheckedAsync("pod", "inspect", "--format", "{{.InfraContainerID}}", podName);
        var address = await Podman.CheckedAsync("inspect", "--format", $"{{{{(index .NetworkSettings.Networks \"{Network}\").IPAddress}}}}", infra);
        var containerName = $"{podName}-{container.Name}";
        if (!System.Net.IPAddress.TryParse(address, out _))
        {
            var (_, logs, errors) = await Podman.RunAsync(["logs", containerName], TimeSpan.FromSeconds(30));
            throw new InvalidOperationException($"pod {podName} has no address on {Network} ('{address}'; the pod stops when its container exits):\n{logs}{errors}");
        }
        var mounts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var mount in container.VolumeMounts ?? [])
        {
            if (volumes.Single(v => v.Name == mount.Name).PersistentVolumeClaim is { } pvc) mounts[mount.MountPath] = pvc.ClaimName;
        }
        var started = new ContainerPod(podName, owner, containerName, manifestContainer, template.Spec, address, mounts);
        _pods.Add(started);
        _log($"kube play {owner} -> pod {started}, aliases {string.Join(' ', aliases.Where(a => !a.Contains(".svc", StringComparison.Ordinal)))}");
        return started;
    }

    /// <summary>Runs a probe of the pod's container once, as the kubelet would: from the node (the host), or exec in the container.</summary>
    public async Task<bool> ProbeAsync(ContainerPod pod, V1Probe probe, CancellationToken ct)
    {
        var timeout = TimeSpan.FromSeconds(Math.Max(1, probe.TimeoutSeconds ?? 1));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            if (probe.HttpGet is { } get)
            {
                using var http = new HttpClient { Timeout = timeout };
                using var response = await http.GetAsync(new Uri($"http://{pod.Address}:{PortNumber(pod.Spec, get.Port.Value)}{get.Path}"), cts.Token);
                return (int)response.StatusCode is >= 200 and < 400;
            }
            if (probe.Grpc is { } grpc)
            {
                using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"http://{pod.Address}:{grpc.Port}");
                var reply = await new Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(new Grpc.Health.V1.HealthCheckRequest { Service = grpc.Service ?? "" }, cancellationToken: cts.Token);
                return reply.Status == Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving;
            }
            if (probe.TcpSocket is { } tcp)
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync(System.Net.IPAddress.Parse(pod.Address), PortNumber(pod.Spec, tcp.Port.Value), cts.Token);
                return true;
            }
            if (probe.Exec is { } exec)
            {
                var (code, _, _) = await Podman.RunAsync(["exec", pod.Container, .. exec.Command], timeout, cts.Token);
                return code == 0;
            }
            throw new NotSupportedException($"{pod.Owner}: a probe with no handler");
        }
        catch (Exception ex) when (ex is HttpRequestException or Grpc.Core.RpcException or System.Net.Sockets.SocketException or OperationCanceledException or TimeoutException or IOException)
        {
            return false;
        }
    }

    /// <summary>Polls the readiness probe (once a second, not at periodSeconds, to keep the run short) until it passes.</summary>
    public async Task WaitReadyAsync(ContainerPod pod, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (!await IsRunningAsync(pod)) throw new InvalidOperationException($"pod {pod} exited ({await StateAsync(pod)}) before it was ready:\n{await LogsAsync(pod)}");
            if (pod.Spec.ReadinessProbe is not { } probe || await ProbeAsync(pod, probe, CancellationToken.None)) break;
            if (clock.Elapsed > timeout) throw new TimeoutException($"pod {pod} not ready after {timeout}:\n{await LogsAsync(pod)}");
            await Task.Delay(1000);
        }
        _log($"ready: {pod} after {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>SIGTERM, then SIGKILL at the end of the pod's terminationGracePeriodSeconds: its exit code and how long it took.</summary>
    public async Task<(int ExitCode, double Seconds)> TerminateAsync(ContainerPod pod)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Podman.CheckedAsync("stop", "--time", pod.GraceSeconds.ToString(CultureInfo.InvariantCulture), pod.Container);
        var seconds = clock.Elapsed.TotalSeconds;
        var exit = int.Parse(await Podman.CheckedAsync("inspect", "--format", "{{.State.ExitCode}}", pod.Container), CultureInfo.InvariantCulture);
        _log($"SIGTERMed {pod}: exit {exit} after {seconds:F1} s (grace {pod.GraceSeconds} s)");
        return (exit, seconds);
    }

    public static async Task<bool> IsRunningAsync(ContainerPod pod) =>
        await Podman.CheckedAsync("inspect", "--format", "{{.State.Running}}", pod.Container) == "true";

    public static Task<string> StateAsync(ContainerPod pod) =>
        Podman.CheckedAsync("inspect", "--format", "{{.State.Status}} exit {{.State.ExitCode}}", pod.Container);

    public static async Task<int> PidAsync(ContainerPod pod) =>
        int.Parse(await Podman.CheckedAsync("inspect", "--format", "{{.State.Pid}}", pod.Container), CultureInfo.InvariantCulture);

    public static async Task<string> LogsAsync(ContainerPod pod)
    {
        var (_, stdout, stderr) = await Podman.RunAsync(["logs", pod.Container], TimeSpan.FromSeconds(30));
        return stdout + stderr;
    }

    /// <summary>The host directory of the podman volume behind a pod's claim or emptyDir at <paramref name="mountPath"/>.</summary>
    public static Task<string> VolumeDirectoryAsync(ContainerPod pod, string mountPath) =>
        Podman.CheckedAsync("volume", "inspect", "--format", "{{.Mountpoint}}", pod.Claims[mountPath]);

    public async ValueTask DisposeAsync()
    {
        foreach (var pod in _podNames)
            await Podman.RunAsync(["pod", "rm", "--force", "--time", "0", pod], TimeSpan.FromMinutes(1));
        foreach (var volume in _volumes)
            await Podman.RunAsync(["volume", "rm", "--force", volume], TimeSpan.FromMinutes(1));
        await Podman.RunAsync(["network", "rm", "--force", Network], TimeSpan.FromMinutes(1));
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string NextName(string owner)
    {
        var name = owner.Split('/')[1];
        if (owner.StartsWith("StatefulSet/", StringComparison.Ordinal))
        {
            int ordinal = _ordinals.GetValueOrDefault(owner);
            _ordinals[owner] = ordinal + 1;
            return $"{name}-{ordinal}";
        }
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return $"{name}-{new string(Enumerable.Range(0, 5).Select(_ => alphabet[Random.Shared.Next(alphabet.Length)]).ToArray())}";
    }

    /// <summary>The DNS names the pod answers to on the test network: its own, and those of the Services that select it.</summary>
    private List<string> Aliases(string owner, string podName, string? ns, IDictionary<string, string>? labels)
    {
        var aliases = new List<string> { podName };
        var governing = _overlay.OfKind<V1StatefulSet>().SingleOrDefault(s => $"StatefulSet/{s.Metadata.Name}" == owner)?.Spec.ServiceName;
        foreach (var svc in _overlay.OfKind<V1Service>().Where(s => s.Metadata.NamespaceProperty == ns))
        {
            var selector = svc.Spec.Selector;
            if (selector is not { Count: > 0 } || labels is null || !selector.All(kv => labels.TryGetValue(kv.Key, out var v) && v == kv.Value)) continue;
            var name = svc.Metadata.Name;
            aliases.AddRange([name, $"{name}.{ns}", $"{name}.{ns}.svc", $"{name}.{ns}.svc.cluster.local"]);
            if (name == governing) aliases.AddRange([$"{podName}.{name}", $"{podName}.{name}.{ns}.svc.cluster.local"]);
        }
        return aliases;
    }

    /// <summary>A pod volume backed by a claim podman creates (unless it already exists: a StatefulSet pod's claim outlives it).</summary>
    private V1Volume Claimed(string volumeName, string claimName, long uid, long gid, ResourceQuantity? tmpfsSize, List<V1PersistentVolumeClaim> claims)
    {
        if (!_volumes.Contains(claimName))
        {
            var annotations = new Dictionary<string, string>
            {
                ["volume.podman.io/uid"] = uid.ToString(CultureInfo.InvariantCulture),
                ["volume.podman.io/gid"] = gid.ToString(CultureInfo.InvariantCulture),
            };
            if (tmpfsSize is not null)
            {
                annotations["volume.podman.io/type"] = "tmpfs";
                annotations["volume.podman.io/device"] = "tmpfs";
                annotations["volume.podman.io/mount-options"] = $"size={tmpfsSize.ToInt64()},uid={uid},gid={gid},mode=0770";
            }
            claims.Add(new V1PersistentVolumeClaim
            {
                ApiVersion = "v1", Kind = "PersistentVolumeClaim",
                Metadata = new V1ObjectMeta { Name = claimName, Annotations = annotations },
                Spec = new V1PersistentVolumeClaimSpec
                {
                    AccessModes = ["ReadWriteOnce"],
                    Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new("1Gi") } },
                },
            });
        }
        return new V1Volume { Name = volumeName, PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = claimName } };
    }

    /// <summary>A secret volume as the kubelet projects it: a file per item (every key without items), defaultMode, owner root, group fsGroup.</summary>
    private string ProjectSecret(string owner, string podName, string volumeName, V1SecretVolumeSource volume, long fsGroup)
    {
        if (!_secrets.TryGetValue(volume.SecretName, out var data))
            throw new NotSupportedException($"{owner}: secret volume of '{volume.SecretName}', which the test did not create ({string.Join(", ", _secrets.Keys)}).");
        var dir = Path.Combine(Root, podName, "secrets", volumeName);
        Directory.CreateDirectory(dir);
        foreach (var d in new[] { Path.Combine(Root, podName), Path.Combine(Root, podName, "secrets"), dir }) File.SetUnixFileMode(d, (UnixFileMode)0b111_101_101);
        var items = volume.Items?.Select(i => (i.Key, i.Path, i.Mode)).ToList() ?? data.Keys.Select(k => (k, k, (int?)null)).ToList();
        foreach (var (key, path, mode) in items)
        {
            if (!data.TryGetValue(key, out var value)) throw new InvalidOperationException($"{owner}: no test value for key '{key}' of Secret '{volume.SecretName}'.");
            var file = Path.Combine(dir, path);
            File.WriteAllText(file, value);
            File.SetUnixFileMode(file, (UnixFileMode)(mode ?? volume.DefaultMode ?? 0b110_100_100));
            var (code, _, stderr) = Tool.Run("chown", [$"0:{fsGroup}", file]);
            if (code != 0) throw new IOException($"chown 0:{fsGroup} {file}: {stderr}");
        }
        return dir;
    }

    private static int PortNumber(V1Container container, string port) =>
        int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : container.Ports?.SingleOrDefault(p => p.Name == port)?.ContainerPort
              ?? throw new InvalidOperationException($"container {container.Name} has no port named '{port}'");
}
