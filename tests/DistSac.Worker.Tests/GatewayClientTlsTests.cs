using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using DistSac.Protocol;
using DistSac.Testing;

namespace DistSac.Worker.Tests;

/// <summary>The worker's TLS settings: which combinations are refused, and that a rotated client certificate is used without a restart.</summary>
public sealed class GatewayClientTlsTests : IDisposable
{
    private readonly TestPki _pki = TestPki.Create();

    public void Dispose() => _pki.Dispose();

    [Theory]
    [InlineData("http://127.0.0.1:50051", true, false, "is http:// (cleartext) but TLS files are set")]
    [InlineData("https://127.0.0.1:50051", false, true, "Worker:TlsKeyFile go together")]
    [InlineData("dns:///gateway-headless:50051", false, false, "needs Worker:TlsCaFile")]
    public void MismatchedSettings_AreRefused_NamingTheFix(string gateway, bool caFile, bool certOnly, string expected)
    {
        var client = _pki.IssueClient();
        var options = new WorkerOptions
        {
            Gateway = gateway,
            TlsCaFile = caFile ? _pki.CaFile : "",
            TlsCertFile = client.CertFile,
            TlsKeyFile = certOnly ? "" : client.KeyFile,
        };

        var e = Assert.Throws<ArgumentException>(() => GatewayClientTls.Resolve(options));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:50051", "", false)]
    [InlineData("https://127.0.0.1:50051", "", true)] // the system store verifies the server
    [InlineData("dns:///gateway-headless:50051", "", false)]
    [InlineData("dns:///gateway-headless:50051", "ca", true)]
    public void Tls_IsOnForHttps_AndForDnsWithACaFile(string gateway, string caFile, bool tls)
    {
        var options = new WorkerOptions { Gateway = gateway, TlsCaFile = caFile.Length > 0 ? _pki.CaFile : "" };

        Assert.Equal(tls, GatewayClientTls.Resolve(options) is not null);
    }

    [Fact]
    public async Task ARotatedClientCertificate_IsPresentedByTheNextConnection()
    {
        var client = _pki.IssueClient();
        var tls = GatewayClientTls.Resolve(new WorkerOptions
        {
            Gateway = "https://127.0.0.1:1",
            TlsCaFile = _pki.CaFile,
            TlsCertFile = client.CertFile,
            TlsKeyFile = client.KeyFile,
        })!;
        var server = _pki.IssueServer();
        using var serverCertificate = X509Certificate2.CreateFromPemFile(server.CertFile, server.KeyFile);

        var first = await ClientCertificateSeenByAServerAsync(tls, serverCertificate);
        var renewed = _pki.IssueClient("worker-renewed");
        TestPki.Replace(client, renewed);
        await Task.Delay(ReloadingFiles<PemCertificate>.RecheckInterval + TimeSpan.FromMilliseconds(300));
        var second = await ClientCertificateSeenByAServerAsync(tls, serverCertificate);

        Assert.Equal(client.Certificate.SerialNumber, first);
        Assert.Equal(renewed.Certificate.SerialNumber, second);
    }

    /// <summary>One TLS handshake from a handler set up by <paramref name="tls"/> to a bare SslStream server asking for a client certificate.</summary>
    private static async Task<string?> ClientCertificateSeenByAServerAsync(GatewayClientTls tls, X509Certificate2 serverCertificate)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        string? seen = null;
        var serve = Task.Run(async () =>
        {
            using var connection = await listener.AcceptTcpClientAsync();
            await using var ssl = new SslStream(connection.GetStream());
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = serverCertificate,
                ClientCertificateRequired = true,
                ApplicationProtocols = [SslApplicationProtocol.Http2],
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null,
            });
            seen = ssl.RemoteCertificate?.GetSerialNumberString();
        });
        using var handler = new SocketsHttpHandler();
        tls.Apply(handler);
        using var http = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://127.0.0.1:{port}/")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        // The server closes after the handshake, so the request itself fails; only the handshake matters here.
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.SendAsync(request));
        await serve;
        return seen;
    }
}
