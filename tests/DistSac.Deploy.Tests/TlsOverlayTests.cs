using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace DistSac.Deploy.Tests;

/// <summary>
/// overlays/tls (components/tls + components/mutual-tls): gateways serve a certificate from the Secret
/// distsac-gateway-tls on https:// only, require worker client certificates, are ready by HTTP /readyz; workers verify
/// against ca.crt, present distsac-worker-tls, and never get the gateways' key; the example cert-manager Certificates
/// fill exactly those Secrets and name the address the workers dial.
/// </summary>
public sealed class TlsOverlayTests
{
    private const string Gateway = "Deployment/distsac-gateway";
    private const string Worker = "Deployment/distsac-worker";
    private static readonly RenderedOverlay Tls = RenderedOverlay.Load("tls");

    [Fact]
    public void The_gateway_listens_on_https_only_with_the_served_pair_and_the_client_ca_from_its_tls_secret()
    {
        Assert.Equal("https://0.0.0.0:50051", Setting(Tls, Gateway, "DISTSAC_GATEWAY__LISTEN"));
        Assert.Equal(("distsac-gateway-tls", "tls.crt"), SecretFile(Tls, Gateway, "DISTSAC_GATEWAY__TLSCERTFILE"));
        Assert.Equal(("distsac-gateway-tls", "tls.key"), SecretFile(Tls, Gateway, "DISTSAC_GATEWAY__TLSKEYFILE"));
        Assert.Equal(("distsac-gateway-tls", "ca.crt"), SecretFile(Tls, Gateway, "DISTSAC_GATEWAY__TLSCLIENTCAFILE"));
        var grpc = Assert.Single(Assert.Single(Tls.OfKind<V1Service>(), s => s.Metadata.Name == "distsac-gateway").Spec.Ports, p => p.Name == "grpc");
        Assert.Null(grpc.AppProtocol); // not kubernetes.io/h2c any more
    }

    [Fact]
    public void Workers_verify_the_gateway_against_the_ca_and_present_their_client_certificate_but_never_see_the_gateway_key()
    {
        var address = Setting(Tls, Worker, "DISTSAC_WORKER__GATEWAY");
        Assert.True(address.StartsWith("dns:///", StringComparison.Ordinal) || address.StartsWith("https://", StringComparison.Ordinal),
            $"the worker dials '{address}', which would not speak TLS");
        Assert.Equal(("distsac-gateway-tls", "ca.crt"), SecretFile(Tls, Worker, "DISTSAC_WORKER__TLSCAFILE"));
        Assert.Equal(("distsac-worker-tls", "tls.crt"), SecretFile(Tls, Worker, "DISTSAC_WORKER__TLSCERTFILE"));
        Assert.Equal(("distsac-worker-tls", "tls.key"), SecretFile(Tls, Worker, "DISTSAC_WORKER__TLSKEYFILE"));

        var volumes = Template(Tls, Worker).Spec.Volumes.Where(v => v.Secret?.SecretName == "distsac-gateway-tls").ToList();
        Assert.All(volumes, v => Assert.Equal(["ca.crt"], v.Secret.Items.Select(i => i.Key)));
    }

    [Theory]
    [MemberData(nameof(RenderedOverlay.Names), MemberType = typeof(RenderedOverlay))]
    public void A_gateway_on_https_is_ready_by_http_readyz_because_kubelets_grpc_probe_speaks_no_tls(string overlay)
    {
        var rendered = RenderedOverlay.Load(overlay);
        var gateway = ManifestWiringTests.Container(rendered, Gateway);
        if (!Setting(rendered, Gateway, "DISTSAC_GATEWAY__LISTEN").StartsWith("https://", StringComparison.Ordinal)) return;

        Assert.Null(gateway.ReadinessProbe.Grpc);
        Assert.Equal("/readyz", gateway.ReadinessProbe.HttpGet.Path);
        Assert.Contains(gateway.Ports, p => p.Name == gateway.ReadinessProbe.HttpGet.Port.Value && p.ContainerPort == 9090);
        Assert.Equal("http://0.0.0.0:9090", Setting(rendered, Gateway, "DISTSAC_GATEWAY__HTTPLISTEN")); // plain HTTP, as kubelet probes it
    }

    [Fact]
    public void The_other_overlays_stay_on_cleartext_with_the_grpc_readiness_probe()
    {
        foreach (var overlay in RenderedOverlay.All.Where(o => o != "tls"))
        {
            var rendered = RenderedOverlay.Load(overlay);
            Assert.StartsWith("http://", Setting(rendered, Gateway, "DISTSAC_GATEWAY__LISTEN"), StringComparison.Ordinal);
            Assert.Equal(50051, ManifestWiringTests.Container(rendered, Gateway).ReadinessProbe.Grpc.Port);
            Assert.DoesNotContain(rendered.PodTemplates().SelectMany(t => t.Template.Spec.Volumes ?? []), v => v.Secret?.SecretName is "distsac-gateway-tls" or "distsac-worker-tls");
        }
    }

    [Fact]
    public void The_example_cert_manager_certificates_fill_the_mounted_secrets_and_name_the_address_workers_dial()
    {
        var certificates = CertManagerCertificates();
        var gateway = certificates["distsac-gateway-tls"];
        var worker = certificates["distsac-worker-tls"];

        var address = Setting(Tls, Worker, "DISTSAC_WORKER__GATEWAY");
        var host = new Uri(address.Replace("dns:///", "https://", StringComparison.Ordinal)).Host;
        var dnsNames = ((YamlSequenceNode)gateway["dnsNames"]).Children.Select(n => n.ToString()).ToList();
        Assert.Contains(host, dnsNames);
        Assert.Contains($"{host}.distsac.svc", dnsNames);
        Assert.Contains("server auth", ((YamlSequenceNode)gateway["usages"]).Children.Select(n => n.ToString()));
        Assert.Contains("client auth", ((YamlSequenceNode)worker["usages"]).Children.Select(n => n.ToString()));
        Assert.Equal(((YamlMappingNode)gateway["issuerRef"])["name"].ToString(), ((YamlMappingNode)worker["issuerRef"])["name"].ToString());

        var mounted = Tls.PodTemplates().SelectMany(t => t.Template.Spec.Volumes ?? []).Select(v => v.Secret?.SecretName)
            .Where(n => n is not null && n != "distsac-replay").Distinct().Order();
        Assert.Equal(mounted, certificates.Keys.Where(k => k != "distsac-ca").Order());
    }

    /// <summary>Certificate spec by secretName, from deploy/k8s/optional/cert-manager-tls.yaml (CRDs: not the typed model).</summary>
    private static Dictionary<string, YamlMappingNode> CertManagerCertificates()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(RenderedOverlay.RepositoryRoot(), "deploy", "k8s", "optional", "cert-manager-tls.yaml"))));
        var result = new Dictionary<string, YamlMappingNode>(StringComparer.Ordinal);
        foreach (var document in stream.Documents)
        {
            var root = (YamlMappingNode)document.RootNode;
            if (root["kind"].ToString() != "Certificate") continue;
            var spec = (YamlMappingNode)root["spec"];
            result[spec["secretName"].ToString()] = spec;
        }
        return result;
    }

    /// <summary>The value a container sees for <paramref name="name"/>: its env (which wins) or a ConfigMap it loads.</summary>
    private static string Setting(RenderedOverlay rendered, string owner, string name)
    {
        var container = ManifestWiringTests.Container(rendered, owner);
        if (container.Env?.SingleOrDefault(e => e.Name == name) is { } env) return env.Value;
        return container.EnvFrom.Select(f => rendered.OfKind<V1ConfigMap>().Single(m => m.Metadata.Name == f.ConfigMapRef.Name).Data)
            .Last(d => d.ContainsKey(name))[name];
    }

    /// <summary>The Secret and key behind the file a setting points to, through the container's mounts.</summary>
    private static (string Secret, string Key) SecretFile(RenderedOverlay rendered, string owner, string name)
    {
        var path = Setting(rendered, owner, name);
        var container = ManifestWiringTests.Container(rendered, owner);
        var mount = Assert.Single(container.VolumeMounts, m => path.StartsWith(m.MountPath + "/", StringComparison.Ordinal));
        Assert.True(mount.ReadOnlyProperty, $"{owner}: {mount.MountPath} is not read-only");
        var secret = Assert.Single(Template(rendered, owner).Spec.Volumes, v => v.Name == mount.Name).Secret;
        Assert.NotNull(secret);
        var item = Assert.Single(secret.Items, i => $"{mount.MountPath}/{i.Path}" == path);
        return (secret.SecretName, item.Key);
    }

    private static V1PodTemplateSpec Template(RenderedOverlay rendered, string owner) => rendered.PodTemplates().Single(t => t.Owner == owner).Template;
}
