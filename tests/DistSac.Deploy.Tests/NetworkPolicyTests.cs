using k8s.Models;

namespace DistSac.Deploy.Tests;

/// <summary>
/// The NetworkPolicies, evaluated offline as the API server would: which pods of the rendered overlay (plus a labelled
/// metrics scraper and an unrelated pod) may open a connection to which pod and port.
/// </summary>
public sealed class NetworkPolicyTests
{
    private const string ScraperLabel = "distsac.io/metrics-scraper";
    private static readonly Dictionary<string, string> Scraper = new() { [ScraperLabel] = "true", ["app"] = "prometheus" };
    private static readonly Dictionary<string, string> Stranger = new() { ["app"] = "someone-else" };

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void The_namespace_denies_all_ingress_by_default(string overlay)
    {
        var policies = RenderedOverlay.Load(overlay).OfKind<V1NetworkPolicy>().ToList();

        Assert.Contains(policies, p => IsEmpty(p.Spec.PodSelector) && p.Spec.PolicyTypes.Contains("Ingress") && (p.Spec.Ingress is null || p.Spec.Ingress.Count == 0));
    }

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void Only_workers_reach_the_gateways_grpc_port(string overlay) =>
        Assert.Equal(["worker"], Sources(RenderedOverlay.Load(overlay), "gateway", 50051));

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void Only_gateway_and_learner_reach_redis(string overlay) =>
        Assert.Equal(["gateway", "learner"], Sources(RenderedOverlay.Load(overlay), "redis", 6379));

    [Theory]
    [InlineData("gateway", 9090)]
    [InlineData("learner", 9091)]
    [InlineData("worker", 9092)]
    public void Only_the_labelled_scraper_reaches_the_metrics_ports(string component, int port)
    {
        foreach (var overlay in RenderedOverlay.All)
        {
            var rendered = RenderedOverlay.Load(overlay);
            Assert.Contains(ManifestWiringTests.Container(rendered, Owner(rendered, component)).Ports, p => p.ContainerPort == port);
            Assert.Equal(["scraper"], Sources(rendered, component, port));
        }
    }

    [Fact]
    public void A_port_no_policy_opens_is_closed_to_everyone()
    {
        var rendered = RenderedOverlay.Load("cpu");

        Assert.Empty(Sources(rendered, "gateway", 9999));
        Assert.Empty(Sources(rendered, "redis", 9090));
    }

    /// <summary>Which of the overlay's pods (by component), "scraper" or "stranger" may connect to <paramref name="component"/>:<paramref name="port"/>.</summary>
    private static List<string> Sources(RenderedOverlay rendered, string component, int port)
    {
        var target = Template(rendered, component);
        var candidates = rendered.PodTemplates()
            .Select(t => (Name: t.Template.Metadata.Labels["app.kubernetes.io/component"], Labels: (IDictionary<string, string>)t.Template.Metadata.Labels, SameNamespace: true))
            .Append(("scraper", Scraper, false))
            .Append(("stranger", Stranger, true))
            .ToList();
        var allowed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var policy in rendered.OfKind<V1NetworkPolicy>())
        {
            if (!Matches(policy.Spec.PodSelector, target.Metadata.Labels) || policy.Spec.Ingress is null) continue;
            foreach (var rule in policy.Spec.Ingress)
            {
                if (rule.Ports is { Count: > 0 } ports && !ports.Any(p => p.Port?.Value == port.ToString(System.Globalization.CultureInfo.InvariantCulture))) continue;
                foreach (var (name, labels, sameNamespace) in candidates)
                {
                    if (rule.FromProperty is null || rule.FromProperty.Any(peer => Admits(peer, labels, sameNamespace))) allowed.Add(name);
                }
            }
        }
        return [.. allowed];
    }

    /// <summary>A peer admits a pod: podSelector alone means this namespace; with a namespaceSelector ({} = any) it may be elsewhere.</summary>
    private static bool Admits(V1NetworkPolicyPeer peer, IDictionary<string, string> labels, bool sameNamespace)
    {
        if (peer.IpBlock is not null) return false;
        if (peer.NamespaceSelector is null && !sameNamespace) return false;
        if (peer.NamespaceSelector is { } ns && !IsEmpty(ns)) return false; // no namespace labels are modelled
        return peer.PodSelector is null || Matches(peer.PodSelector, labels);
    }

    private static bool Matches(V1LabelSelector selector, IDictionary<string, string>? labels)
    {
        labels ??= new Dictionary<string, string>();
        foreach (var (k, v) in selector.MatchLabels ?? new Dictionary<string, string>())
            if (!labels.TryGetValue(k, out var actual) || actual != v) return false;
        foreach (var e in selector.MatchExpressions ?? [])
        {
            bool has = labels.TryGetValue(e.Key, out var actual);
            bool ok = e.OperatorProperty switch
            {
                "In" => has && e.Values.Contains(actual!),
                "NotIn" => !has || !e.Values.Contains(actual!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => throw new NotSupportedException(e.OperatorProperty),
            };
            if (!ok) return false;
        }
        return true;
    }

    private static bool IsEmpty(V1LabelSelector s) => (s.MatchLabels is null || s.MatchLabels.Count == 0) && (s.MatchExpressions is null || s.MatchExpressions.Count == 0);

    private static V1PodTemplateSpec Template(RenderedOverlay rendered, string component) =>
        rendered.PodTemplates().Single(t => t.Template.Metadata.Labels["app.kubernetes.io/component"] == component).Template;

    private static string Owner(RenderedOverlay rendered, string component) =>
        rendered.PodTemplates().Single(t => t.Template.Metadata.Labels["app.kubernetes.io/component"] == component).Owner;
}
