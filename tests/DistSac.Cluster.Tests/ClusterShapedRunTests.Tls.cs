using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using DistSac.Deploy.Tests;
using DistSac.Testing;
using Grpc.Health.V1;
using Grpc.Net.Client;
using k8s.Models;

namespace DistSac.Cluster.Tests;

/// <summary>The Secrets of the run and what the scenarios check about them: files only, TLS on the wire.</summary>
public sealed partial class ClusterShapedRunTests
{
    private const int GrpcPort = 50051;

    /// <summary>
    /// The Secrets as an operator (or cert-manager) would create them: distsac-replay, and the kubernetes.io/tls Secrets
    /// distsac-gateway-tls (a serving certificate naming the address the workers dial, in short and namespaced forms,
    /// as the cert-manager example does) and distsac-worker-tls (a client certificate), both from the test's own CA.
    /// </summary>
    private static Dictionary<string, IReadOnlyDictionary<string, string>> TlsSecrets(TestPki pki, Dictionary<string, string> replay, string gatewayHost, string ns)
    {
        var server = pki.IssueServer("distsac-gateway", gatewayHost, $"{gatewayHost}.{ns}.svc", $"{gatewayHost}.{ns}.svc.cluster.local");
        var client = pki.IssueClient("distsac-worker");
        var ca = File.ReadAllText(pki.CaFile);
        return new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal)
        {
            ["distsac-replay"] = replay,
            ["distsac-gateway-tls"] = new Dictionary<string, string> { ["tls.crt"] = File.ReadAllText(server.CertFile), ["tls.key"] = File.ReadAllText(server.KeyFile), ["ca.crt"] = ca },
            ["distsac-worker-tls"] = new Dictionary<string, string> { ["tls.crt"] = File.ReadAllText(client.CertFile), ["tls.key"] = File.ReadAllText(client.KeyFile), ["ca.crt"] = ca },
        };
    }

    /// <summary>
    /// No secret value (password, token, a line of a private key) is in any running pod's /proc/PID/cmdline or environ:
    /// what `ps` and the environment would show. The PID is the container's process (every wrapper execs; Redis's shell too).
    /// </summary>
    private void AssertNoSecretOnACommandLineOrInAnEnvironment(LabCluster cluster, Dictionary<string, IReadOnlyDictionary<string, string>> secrets)
    {
        var values = secrets.Values.SelectMany(d => d.Values).SelectMany(v => v.Split('\n'))
            .Select(line => line.Trim()).Where(line => line.Length >= 16 && !line.StartsWith("-----", StringComparison.Ordinal)).Distinct().ToList();
        Assert.NotEmpty(values);
        foreach (var pod in cluster.Pods.Where(p => !p.HasExited))
        {
            var cmdline = File.ReadAllText($"/proc/{pod.Pid}/cmdline").Replace('\0', ' ');
            var environ = File.ReadAllText($"/proc/{pod.Pid}/environ");
            foreach (var value in values)
            {
                Assert.False(cmdline.Contains(value, StringComparison.Ordinal), $"{pod}: a secret value is on its command line: {cmdline}");
                Assert.False(environ.Contains(value, StringComparison.Ordinal), $"{pod}: a secret value is in its environment");
            }
        }
        Log($"no secret value in the command line or environment of {cluster.Pods.Count(p => !p.HasExited)} pods (/proc/<pid>/cmdline, environ)");
    }

    /// <summary>
    /// The gateways serve gRPC over mutual TLS only, with a certificate valid for the name the workers dial: from the
    /// host, cleartext HTTP/2, TLS without a client certificate and TLS checked against another name are refused, TLS
    /// with the workers' client certificate and that name gets SERVING; gateways and workers log the TLS they use.
    /// </summary>
    private async Task AssertGatewaysSpeakOnlyMutualTlsAsync(RenderedOverlay overlay, IEnumerable<Pod> gateways, IEnumerable<Pod> workers,
        Dictionary<string, IReadOnlyDictionary<string, string>> secrets)
    {
        var workerTls = secrets["distsac-worker-tls"];
        using var ca = X509Certificate2.CreateFromPem(secrets["distsac-gateway-tls"]["ca.crt"]);
        using var client = X509Certificate2.CreateFromPem(workerTls["tls.crt"], workerTls["tls.key"]);
        var name = GatewayHost(overlay);
        foreach (var gateway in gateways)
        {
            Assert.Contains("gRPC over mutual TLS", gateway.ReadLog(), StringComparison.Ordinal);
            Assert.Null(await HealthAsync(gateway, $"http://{gateway.Network.Address}:{GrpcPort}", null, null));
            Assert.Null(await HealthAsync(gateway, $"https://{name}:{GrpcPort}", ca, null));
            Assert.Null(await HealthAsync(gateway, $"https://not-{name}:{GrpcPort}", ca, client));
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, await HealthAsync(gateway, $"https://{name}:{GrpcPort}", ca, client));
        }
        foreach (var worker in workers)
            Assert.Contains("TLS, server verified against the CA in Worker:TlsCaFile only, client certificate", worker.ReadLog(), StringComparison.Ordinal);
        Log($"gateways: mutual TLS only, certificate valid for '{name}'; cleartext, no client certificate and another name refused");
    }

    /// <summary>The host name the workers dial (DISTSAC_WORKER__GATEWAY, dns:/// or https://): what the gateway certificate must name.</summary>
    private static string GatewayHost(RenderedOverlay overlay)
    {
        var address = overlay.OfKind<V1ConfigMap>().Single(c => c.Metadata.Name == "distsac-config").Data["DISTSAC_WORKER__GATEWAY"];
        return new Uri(address.Replace("dns:///", "https://", StringComparison.Ordinal)).Host;
    }

    /// <summary>
    /// grpc.health.v1 Check against <paramref name="gateway"/>'s address, whatever host <paramref name="address"/> names
    /// (that host is the TLS server name checked against <paramref name="ca"/>); null when the call fails.
    /// </summary>
    private static async Task<HealthCheckResponse.Types.ServingStatus?> HealthAsync(Pod gateway, string address, X509Certificate2? ca, X509Certificate2? client)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(gateway.Network.Address, GrpcPort, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => ca is not null && ChainsTo(certificate, errors, ca),
                LocalCertificateSelectionCallback = (_, _, _, _, _) => client!,
            },
        };
        using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        try
        {
            var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
            return reply.Status;
        }
        catch (Grpc.Core.RpcException)
        {
            return null;
        }
    }

    /// <summary>The server certificate names the host dialled and chains to <paramref name="ca"/> alone.</summary>
    private static bool ChainsTo(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 ca)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }
}
