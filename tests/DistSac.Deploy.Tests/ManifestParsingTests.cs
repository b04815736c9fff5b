using k8s;
using k8s.Models;

namespace DistSac.Deploy.Tests;

public sealed class ManifestParsingTests
{
    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void Every_overlay_renders_into_typed_objects_of_every_part(string overlay)
    {
        var rendered = RenderedOverlay.Load(overlay);

        Assert.All(rendered.Objects, o => Assert.StartsWith("k8s.Models.", o.GetType().FullName, StringComparison.Ordinal));
        Assert.Single(rendered.OfKind<V1Namespace>(), n => n.Metadata.Name == "distsac");
        Assert.Single(rendered.OfKind<V1ConfigMap>(), c => c.Metadata.Name == "distsac-config");
        Assert.Equal(["distsac-learner", "distsac-redis"], rendered.OfKind<V1StatefulSet>().Select(s => s.Metadata.Name).Order());
        Assert.Equal(["distsac-gateway", "distsac-worker"], rendered.OfKind<V1Deployment>().Select(d => d.Metadata.Name).Order());
        Assert.Equal(["distsac-gateway", "distsac-gateway-headless", "distsac-learner", "distsac-redis"],
            rendered.OfKind<V1Service>().Select(s => s.Metadata.Name).Order());
        Assert.Single(rendered.OfKind<V1PodDisruptionBudget>(), p => p.Metadata.Name == "distsac-redis");
    }

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void Every_namespaced_object_lands_in_the_distsac_namespace(string overlay)
    {
        var rendered = RenderedOverlay.Load(overlay);
        foreach (var o in rendered.Objects.OfType<IKubernetesObject<V1ObjectMeta>>())
        {
            if (o is V1Namespace or V1PriorityClass) continue; // cluster-scoped
            Assert.True(o.Metadata.NamespaceProperty == "distsac", $"{o.Kind}/{o.Metadata.Name} is in namespace '{o.Metadata.NamespaceProperty}'");
        }
    }

    [Fact]
    public void Strict_parsing_rejects_a_misspelled_field()
    {
        const string typo = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: x
            spec:
              replica: 2
            """;

        Assert.ThrowsAny<Exception>(() => RenderedOverlay.ParseStrict(typo));
        Assert.Single(RenderedOverlay.ParseStrict(typo.Replace("replica:", "replicas:", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_example_secret_parses_but_no_overlay_renders_a_secret()
    {
        var path = Path.Combine(RenderedOverlay.RepositoryRoot(), "deploy", "k8s", "base", "secret.example.yaml");
        var secret = Assert.IsType<V1Secret>(Assert.Single(RenderedOverlay.ParseStrict(File.ReadAllText(path))));

        Assert.Equal("distsac-replay", secret.Metadata.Name);
        Assert.Contains("password", secret.StringData.Keys);
        Assert.Contains("token", secret.StringData.Keys);
        foreach (var overlay in RenderedOverlay.All) Assert.Empty(RenderedOverlay.Load(overlay).OfKind<V1Secret>());
    }

    [Fact]
    public void Every_secret_reference_names_the_documented_secret_and_key()
    {
        foreach (var overlay in RenderedOverlay.All)
        {
            foreach (var (owner, container) in RenderedOverlay.Load(overlay).Containers())
            {
                foreach (var env in container.Env ?? [])
                {
                    if (env.ValueFrom?.SecretKeyRef is not { } secretRef) continue;
                    Assert.True(secretRef.Name == "distsac-replay" && secretRef.Key is "password" or "token",
                        $"{owner}/{container.Name} reads secret {secretRef.Name}/{secretRef.Key}, not distsac-replay/password or /token");
                }
            }
        }
    }
}
