using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using DistSac.Deploy.Tests;
using Grpc.Health.V1;
using Grpc.Net.Client;
using k8s.Models;

namespace DistSac.Cluster.Tests;

/// <summary>
/// The rendered overlay run as a cluster on this machine: pods are processes in network namespaces (see <see cref="Pod"/>),
/// a kubelet loop runs every pod's readiness probe (httpGet, grpc, tcpSocket, exec: as written in the manifest) once a
/// second, and an endpoints step writes every pod's hosts file from the Services: a name resolves to the ready pods its
/// selector matches (all running pods where publishNotReadyAddresses), StatefulSet pods also as pod.service. A ClusterIP
/// Service resolves like a headless one (no kube-proxy here, so no virtual IP).
/// </summary>
public sealed class LabCluster : IAsyncDisposable
{
    private readonly RenderedOverlay _overlay;
    private readonly PodTemplateResolver _resolver;
    private readonly NetworkLab _lab;
    private readonly List<Pod> _pods = [];
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _ordinals = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _kubelet;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly Action<string> _log;
    private readonly Stopwatch _clock = Stopwatch.StartNew(); // deadlines only
    private string? _endpointsKey;
    private bool _warnedCgroups;

    public LabCluster(RenderedOverlay overlay, PublishedImages images, IReadOnlyDictionary<string, string> secretData, string root, Action<string> log)
    {
        _overlay = overlay;
        _resolver = new PodTemplateResolver(overlay, secretData, images);
        Root = root;
        _log = log;
        _lab = NetworkLab.Create();
        _kubelet = Task.Run(() => KubeletLoopAsync(_stop.Token));
    }

    public string Root { get; }
    public string Namespace => _overlay.OfKind<V1Namespace>().Single().Metadata.Name;
    public string HostAddress => _lab.HostAddress.ToString();

    public IReadOnlyList<Pod> Pods
    {
        get { lock (_gate) return [.. _pods]; }
    }

    /// <summary>Starts the next pod of a StatefulSet (name-ordinal) or Deployment (name-random), as its controller would.</summary>
    public Pod StartPod(string owner) => Start(owner, NextName(owner));

    /// <summary>
    /// A StatefulSet pod's replacement after it died: the same name and volumes (its claims), a new address, as a
    /// rescheduled pod gets. The old pod's namespace and cgroup are removed first.
    /// </summary>
    public Pod Restart(Pod old)
    {
        if (!old.HasExited) throw new InvalidOperationException($"{old} is still running");
        if (!old.Launch.Owner.StartsWith("StatefulSet/", StringComparison.Ordinal)) throw new InvalidOperationException("only StatefulSet pods keep their name");
        old.Deleted = true;
        old.Replaced = true;
        _lab.RemovePod(old.Network);
        old.Cgroup?.Dispose();
        return Start(old.Launch.Owner, old.Name);
    }

    private string NextName(string owner)
    {
        var name = owner.Split('/')[1];
        string podName;
        lock (_gate)
        {
            if (owner.StartsWith("StatefulSet/", StringComparison.Ordinal))
            {
                int ordinal = _ordinals.GetValueOrDefault(owner);
                _ordinals[owner] = ordinal + 1;
                podName = $"{name}-{ordinal}";
            }
            else
            {
                const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
                podName = $"{name}-{new string(Enumerable.Range(0, 5).Select(_ => alphabet[Random.Shared.Next(alphabet.Length)]).ToArray())}";
            }
        }
        return podName;
    }

    private Pod Start(string owner, string podName)
    {
        var podRoot = Path.Combine(Root, podName);
        Directory.CreateDirectory(podRoot);
        File.SetUnixFileMode(podRoot, (UnixFileMode)0b111_101_101);
        var network = _lab.AddPod(podName);
        var launch = _resolver.Resolve(owner, podName, podRoot, ServiceLinkAddress);
        var cgroup = PodCgroup.TryCreate(_lab.Id, podName, launch.Container.Resources, out var why);
        if (cgroup is null && !_warnedCgroups)
        {
            _warnedCgroups = true;
            _log($"CPU and memory limits are not applied on this machine: {why}");
        }
        Pod pod;
        lock (_gate)
        {
            // Its own hosts file is complete before the process starts (ip netns exec bind-mounts it at exec).
            NetworkLab.WriteHosts(network, HostsFor(network, Members(_pods).Append(new Member(launch.PodName, launch.Owner, launch.Labels, network.Address, false))));
            var log = Path.Combine(podRoot, "log");
            for (int restart = 1; File.Exists(log); restart++) log = Path.Combine(podRoot, $"log.{restart}");
            pod = Pod.Start(launch, network, log, cgroup);
            _pods.Add(pod);
        }
        _log($"started {owner} pod {pod}");
        return pod;
    }

    /// <summary>SIGKILL, as a node loss or OOM kill would; the pod is then deleted (no longer an endpoint).</summary>
    public async Task KillAsync(Pod pod)
    {
        pod.Signal(Pod.SigKill);
        await pod.WaitForExitAsync(TimeSpan.FromSeconds(10));
        pod.Deleted = true;
        pod.Ready = false;
        RefreshEndpoints(force: true);
        _log($"SIGKILLed {pod}");
    }

    /// <summary>SIGTERM and wait, as a scale-down or `kubectl delete pod` would; returns the exit code (null: still running at the grace period).</summary>
    public async Task<int?> TerminateAsync(Pod pod)
    {
        var grace = TimeSpan.FromSeconds(TemplateOf(pod).Spec.TerminationGracePeriodSeconds ?? 30);
        pod.Deleted = true; // endpoints drop a terminating pod first
        pod.Ready = false;
        RefreshEndpoints(force: true);
        pod.Signal(Pod.SigTerm);
        var code = await pod.WaitForExitAsync(grace);
        _log($"SIGTERMed {pod}: exit {(code?.ToString(CultureInfo.InvariantCulture) ?? "none within the grace period")}");
        return code;
    }

    public async Task WaitReadyAsync(Pod pod, TimeSpan timeout)
    {
        var deadline = _clock.Elapsed + timeout;
        while (!pod.Ready)
        {
            if (pod.HasExited) throw new InvalidOperationException($"pod {pod} exited with {pod.ExitCode} before it was ready:\n{pod.LogTail()}");
            if (_clock.Elapsed > deadline) throw new TimeoutException($"pod {pod} not ready after {timeout}:\n{pod.LogTail()}");
            await Task.Delay(200);
        }
        _log($"ready: {pod}");
    }

    /// <summary>Runs a probe of the pod's container once, exactly as written in the manifest.</summary>
    public async Task<bool> ProbeAsync(Pod pod, V1Probe probe, CancellationToken ct)
    {
        var timeout = TimeSpan.FromSeconds(Math.Max(1, probe.TimeoutSeconds ?? 1));
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            var address = pod.Network.Address;
            if (probe.HttpGet is { } get)
            {
                var port = PortNumber(pod.Launch.Container, get.Port.Value);
                using var response = await _http.GetAsync($"http://{address}:{port}{get.Path}", cts.Token);
                return (int)response.StatusCode is >= 200 and < 400;
            }
            if (probe.Grpc is { } grpc)
            {
                using var channel = GrpcChannel.ForAddress($"http://{address}:{grpc.Port}");
                var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest { Service = grpc.Service ?? "" }, cancellationToken: cts.Token);
                return reply.Status == HealthCheckResponse.Types.ServingStatus.Serving;
            }
            if (probe.TcpSocket is { } tcp)
            {
                using var client = new TcpClient();
                await client.ConnectAsync(address, PortNumber(pod.Launch.Container, tcp.Port.Value), cts.Token);
                return true;
            }
            if (probe.Exec is { } exec)
                return await ExecAsync(pod, exec.Command, cts.Token) == 0;
            throw new NotSupportedException($"{pod.Launch.Owner}: a probe with no handler");
        }
        catch (Exception ex) when (ex is HttpRequestException or Grpc.Core.RpcException or SocketException or OperationCanceledException or IOException)
        {
            return false;
        }
    }

    /// <summary>Prometheus text from the pod's named container port, as name{labels} -> value.</summary>
    public async Task<Dictionary<string, double>> ScrapeAsync(Pod pod, string portName)
    {
        var port = PortNumber(pod.Launch.Container, portName);
        var text = await _http.GetStringAsync($"http://{pod.Network.Address}:{port}/metrics");
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int space = line.LastIndexOf(' ');
            values[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return values;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _kubelet;
        }
        catch (OperationCanceledException)
        {
        }
        foreach (var pod in Pods) pod.Signal(Pod.SigKill);
        foreach (var pod in Pods) await pod.WaitForExitAsync(TimeSpan.FromSeconds(10));
        foreach (var pod in Pods.Where(p => !p.Replaced)) pod.Cgroup?.Dispose();
        _lab.Dispose();
        _http.Dispose();
        _stop.Dispose();
    }

    private V1PodTemplateSpec TemplateOf(Pod pod) => _overlay.PodTemplates().Single(t => t.Owner == pod.Launch.Owner).Template;

    /// <summary>Runs a command inside the pod (its namespaces, mounts, user and environment), as an exec probe does.</summary>
    public async Task<int> ExecAsync(Pod pod, IEnumerable<string> command, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("ip")
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = pod.Launch.WorkingDirectory,
        };
        foreach (var a in Pod.Wrap(pod.Network, pod.Launch, command)) psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        foreach (var (k, v) in pod.Launch.Env) psi.Environment[k] = v;
        using var process = Process.Start(psi)!;
        var drain = Task.WhenAll(process.StandardOutput.ReadToEndAsync(ct), process.StandardError.ReadToEndAsync(ct));
        try
        {
            await process.WaitForExitAsync(ct);
            await drain;
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }
        return process.ExitCode;
    }

    private async Task KubeletLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var probes = Pods.Where(p => !p.Deleted && !p.HasExited).Select(async pod =>
            {
                var probe = pod.Launch.Container.ReadinessProbe;
                pod.Ready = probe is null || await ProbeAsync(pod, probe, ct);
            });
            foreach (var pod in Pods.Where(p => p.HasExited)) pod.Ready = false;
            try
            {
                await Task.WhenAll(probes);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            RefreshEndpoints(force: false);
            await Task.Delay(1000, ct).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private void RefreshEndpoints(bool force)
    {
        lock (_gate)
        {
            var key = string.Join(',', _pods.Select(p => $"{p.Name}:{p.Ready}:{p.Deleted}:{p.HasExited}"));
            if (!force && key == _endpointsKey) return;
            _endpointsKey = key;
            foreach (var pod in _pods.Where(p => !p.Deleted))
                NetworkLab.WriteHosts(pod.Network, HostsFor(pod.Network, Members(_pods)));
        }
    }

    /// <summary>A pod as the endpoints controller sees it.</summary>
    private readonly record struct Member(string Name, string Owner, IReadOnlyDictionary<string, string> Labels, System.Net.IPAddress Address, bool Ready);

    private static IEnumerable<Member> Members(IEnumerable<Pod> pods) =>
        pods.Where(p => !p.Deleted && !p.HasExited).Select(p => new Member(p.Name, p.Launch.Owner, p.Launch.Labels, p.Network.Address, p.Ready)).ToList();

    /// <summary>What Service and pod names resolve to inside pod <paramref name="self"/>.</summary>
    private string HostsFor(PodNetwork self, IEnumerable<Member> members)
    {
        var sb = new StringBuilder("127.0.0.1 localhost\n");
        sb.Append(CultureInfo.InvariantCulture, $"{self.Address} {self.PodName}\n");
        var ns = Namespace;
        foreach (var svc in _overlay.OfKind<V1Service>())
        {
            var name = svc.Metadata.Name;
            bool notReadyToo = svc.Spec.PublishNotReadyAddresses == true;
            foreach (var m in members)
            {
                if (!Matches(svc.Spec.Selector, m.Labels) || !m.Ready && !notReadyToo) continue;
                sb.Append(CultureInfo.InvariantCulture, $"{m.Address} {name} {name}.{ns} {name}.{ns}.svc {name}.{ns}.svc.cluster.local\n");
                if (svc.Spec.ClusterIP == "None" && ServiceNameOf(m.Owner) == name)
                    sb.Append(CultureInfo.InvariantCulture, $"{m.Address} {m.Name}.{name} {m.Name}.{name}.{ns} {m.Name}.{name}.{ns}.svc.cluster.local\n");
            }
        }
        return sb.ToString();
    }

    private string? ServiceNameOf(string owner) =>
        _overlay.OfKind<V1StatefulSet>().FirstOrDefault(s => $"StatefulSet/{s.Metadata.Name}" == owner)?.Spec.ServiceName;

    private static bool Matches(IDictionary<string, string>? selector, IReadOnlyDictionary<string, string> labels) =>
        selector is { Count: > 0 } && selector.All(kv => labels.TryGetValue(kv.Key, out var v) && v == kv.Value);

    /// <summary>No kube-proxy, so a ClusterIP is a reserved lab address nothing answers on; only the service-link variables carry it.</summary>
    private string? ServiceLinkAddress(string service)
    {
        var clusterIpServices = _overlay.OfKind<V1Service>().Where(s => s.Spec.ClusterIP != "None").Select(s => s.Metadata.Name).ToList();
        int i = clusterIpServices.IndexOf(service);
        return i < 0 ? null : _lab.Prefix + (254 - i).ToString(CultureInfo.InvariantCulture);
    }

    private static int PortNumber(V1Container container, string port) =>
        int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : container.Ports?.SingleOrDefault(p => p.Name == port)?.ContainerPort
              ?? throw new InvalidOperationException($"container {container.Name} has no port named '{port}'");
}
