using System.Globalization;
using System.Text;
using k8s.Models;

namespace DistSac.Cluster.Tests;

/// <summary>The endpoints controller and DNS: every pod's hosts file from the Services and the pods' readiness.</summary>
public sealed partial class LabCluster
{
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
}
