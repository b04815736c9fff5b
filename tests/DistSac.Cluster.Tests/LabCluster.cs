using System.Diagnostics;
using System.Globalization;
using DistSac.Deploy.Tests;
using DistSac.Observability;
using DistSac.Testing;
using k8s.Models;

namespace DistSac.Cluster.Tests;

/// <summary>
/// The rendered overlay run as a cluster on this machine: pods are processes in network namespaces (see <see cref="Pod"/>),
/// a kubelet loop runs every pod's readiness probe (httpGet, grpc, tcpSocket, exec: as written in the manifest) once a
/// second, and an endpoints step writes every pod's hosts file from the Services: a name resolves to the ready pods its
/// selector matches (all running pods where publishNotReadyAddresses), StatefulSet pods also as pod.service. A ClusterIP
/// Service resolves like a headless one (no kube-proxy here, so no virtual IP).
/// </summary>
public sealed partial class LabCluster : IAsyncDisposable
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

    /// <param name="secrets">The Secrets the pods mount: name -> key -> value.</param>
    public LabCluster(RenderedOverlay overlay, PublishedImages images, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> secrets, string root, Action<string> log)
    {
        _overlay = overlay;
        _resolver = new PodTemplateResolver(overlay, secrets, images);
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

    public async Task<Dictionary<string, double>> ScrapeAsync(Pod pod, string portName)
    {
        var port = PortNumber(pod.Launch.Container, portName);
        var text = await _http.GetStringAsync($"http://{pod.Network.Address}:{port}/metrics");
        return PrometheusText.Parse(text);
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
}
