using k8s.Models;

namespace DistSac.Deploy.Tests;

/// <summary>Cross-object wiring an API server would accept but a running system would not: selectors, ports, settings.</summary>
public sealed class ManifestWiringTests
{
    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void Every_service_selector_matches_some_pod_template(string overlay)
    {
        var rendered = RenderedOverlay.Load(overlay);
        foreach (var service in rendered.OfKind<V1Service>())
        {
            Assert.True(SelectedTemplates(rendered, service).Any(),
                $"Service {service.Metadata.Name} selects no pod template ({Describe(service.Spec.Selector)})");
        }
    }

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void Every_service_target_port_is_a_port_the_selected_containers_declare(string overlay)
    {
        var rendered = RenderedOverlay.Load(overlay);
        foreach (var service in rendered.OfKind<V1Service>())
        {
            var declared = SelectedTemplates(rendered, service).SelectMany(t => t.Spec.Containers).SelectMany(c => c.Ports ?? []).ToList();
            foreach (var port in service.Spec.Ports)
            {
                var target = port.TargetPort?.Value ?? port.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(declared.Any(p => Matches(p, target)),
                    $"Service {service.Metadata.Name} port {port.Name} targets '{target}', which no selected container declares");
            }
        }
    }

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void Every_probe_port_is_a_port_its_container_declares(string overlay)
    {
        foreach (var (owner, container) in RenderedOverlay.Load(overlay).Containers())
        {
            foreach (var (kind, probe) in Probes(container))
            {
                var port = probe.HttpGet?.Port?.Value ?? probe.TcpSocket?.Port?.Value
                    ?? probe.Grpc?.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (port is null) continue; // exec probes have no port
                Assert.True((container.Ports ?? []).Any(p => Matches(p, port)),
                    $"{owner}/{container.Name} {kind} probe uses port '{port}', which the container does not declare");
            }
        }
    }

    [Fact]
    public void The_gateway_is_ready_by_grpc_health_and_alive_by_http_and_the_learner_and_workers_use_http()
    {
        var rendered = RenderedOverlay.Load("cpu");
        var gateway = Container(rendered, "Deployment/distsac-gateway");
        // Readiness through grpc.health.v1 (NOT_SERVING until the run exists); liveness never depends on Redis or the learner.
        Assert.Equal(50051, gateway.ReadinessProbe.Grpc.Port);
        Assert.Equal("/healthz", gateway.LivenessProbe.HttpGet.Path);
        Assert.Equal("9090", gateway.LivenessProbe.HttpGet.Port.Value);
        foreach (var owner in new[] { "StatefulSet/distsac-learner", "Deployment/distsac-worker" })
        {
            var c = Container(rendered, owner);
            Assert.Equal("/healthz", c.LivenessProbe.HttpGet.Path);
            Assert.Equal("/readyz", c.ReadinessProbe.HttpGet.Path);
        }
    }

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void Every_distsac_variable_is_a_setting_the_binary_knows(string overlay)
    {
        var rendered = RenderedOverlay.Load(overlay);
        var unknown = rendered.Containers()
            .SelectMany(c => Variables(rendered, c.Container).Select(v => $"{c.Owner}/{c.Container.Name}: {v}"))
            .Where(v => !KnownSettings.IsKnown(v[(v.LastIndexOf(' ') + 1)..]))
            .Distinct().ToList();

        Assert.True(unknown.Count == 0, "Settings `distsac config` does not list:\n" + string.Join("\n", unknown));
        Assert.NotEmpty(KnownSettings.All);
    }

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void Every_config_map_a_container_loads_is_rendered(string overlay)
    {
        var rendered = RenderedOverlay.Load(overlay);
        var maps = rendered.OfKind<V1ConfigMap>().Select(m => m.Metadata.Name).ToHashSet();
        foreach (var (owner, container) in rendered.Containers())
            foreach (var source in container.EnvFrom ?? [])
                Assert.True(source.ConfigMapRef is null || maps.Contains(source.ConfigMapRef.Name), $"{owner} loads missing ConfigMap {source.ConfigMapRef?.Name}");
    }

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void The_replay_shard_list_names_exactly_the_redis_pods(string overlay)
    {
        var rendered = RenderedOverlay.Load(overlay);
        var redis = Assert.Single(rendered.OfKind<V1StatefulSet>(), s => s.Metadata.Name == "distsac-redis");
        var config = Assert.Single(rendered.OfKind<V1ConfigMap>(), c => c.Metadata.Name == "distsac-config");
        var shards = config.Data.Where(kv => kv.Key.StartsWith("DISTSAC_REPLAY__SHARDS__", StringComparison.Ordinal))
            .ToDictionary(kv => int.Parse(kv.Key["DISTSAC_REPLAY__SHARDS__".Length..], System.Globalization.CultureInfo.InvariantCulture), kv => kv.Value);

        Assert.Equal(redis.Spec.Replicas, shards.Count);
        for (int i = 0; i < shards.Count; i++)
            Assert.Equal($"distsac-redis-{i}.{redis.Spec.ServiceName}:6379", shards[i]);
    }

    private static IEnumerable<V1PodTemplateSpec> SelectedTemplates(RenderedOverlay rendered, V1Service service) =>
        rendered.PodTemplates()
            .Where(t => t.Namespace == service.Metadata.NamespaceProperty)
            .Where(t => service.Spec.Selector is { Count: > 0 } selector
                        && selector.All(kv => t.Template.Metadata.Labels?.TryGetValue(kv.Key, out var v) == true && v == kv.Value))
            .Select(t => t.Template);

    private static bool Matches(V1ContainerPort declared, string port) =>
        declared.Name == port || declared.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture) == port;

    private static IEnumerable<(string Kind, V1Probe Probe)> Probes(V1Container c)
    {
        if (c.LivenessProbe is { } l) yield return ("liveness", l);
        if (c.ReadinessProbe is { } r) yield return ("readiness", r);
        if (c.StartupProbe is { } s) yield return ("startup", s);
    }

    /// <summary>DISTSAC_* names the container sees: its env plus the keys of every ConfigMap it loads with envFrom.</summary>
    private static IEnumerable<string> Variables(RenderedOverlay rendered, V1Container c)
    {
        var names = (c.Env ?? []).Select(e => e.Name).ToList();
        foreach (var source in c.EnvFrom ?? [])
        {
            var map = rendered.OfKind<V1ConfigMap>().FirstOrDefault(m => m.Metadata.Name == source.ConfigMapRef?.Name);
            if (map?.Data is not null) names.AddRange(map.Data.Keys.Select(k => (source.Prefix ?? "") + k));
        }
        return names.Where(n => n.StartsWith("DISTSAC_", StringComparison.Ordinal));
    }

    internal static V1Container Container(RenderedOverlay rendered, string owner) =>
        Assert.Single(rendered.Containers(), c => c.Owner == owner).Container;

    private static string Describe(IDictionary<string, string>? selector) =>
        selector is null ? "no selector" : string.Join(",", selector.Select(kv => $"{kv.Key}={kv.Value}"));
}
