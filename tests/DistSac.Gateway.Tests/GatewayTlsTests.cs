using System.Net.Security;
using System.Net.Sockets;
using DistSac.Envs;
using DistSac.Protocol;
using DistSac.Protocol.V1;
using DistSac.Testing;
using DistSac.Worker;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistSac.Gateway.Tests;

/// <summary>
/// TLS and mutual TLS on a real gateway (Kestrel on loopback, real Redis) with certificates made at test time, asked by
/// the worker's own channel code and by foreign clients: who gets in, who is refused, and that refused clients store nothing.
/// </summary>
public sealed class GatewayTlsTests(RedisFixture redis) : IClassFixture<RedisFixture>, IDisposable
{
    private const string Token = "tls-token-0123456789abcdef";
    private readonly TestPki _pki = TestPki.Create();

    public void Dispose() => _pki.Dispose();

    [Fact]
    public async Task AClient_TrustingTheCa_WithTheToken_PushesAndStreamsWeights()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        await bed.Learner.PublishWeightsAsync(3, [1, 2, 3, 4], CancellationToken.None);
        await using var gateway = await StartTlsAsync(bed);
        using var channel = WorkerChannel(gateway, _pki.CaFile);
        var client = new ReplayGateway.ReplayGatewayClient(channel);

        await client.GetRunInfoAsync(new GetRunInfoRequest { WorkerId = "worker-a" });
        var reply = await client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(8)));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var call = client.WatchWeights(new WatchWeightsRequest { WorkerId = "worker-a", KnownVersion = -1 }, cancellationToken: cts.Token);
        Assert.True(await call.ResponseStream.MoveNext(cts.Token));

        Assert.Equal("https", gateway.Address.Scheme);
        Assert.Equal(8, reply.Stored);
        Assert.Equal(8, await bed.StoredAsync());
        Assert.Equal(3, call.ResponseStream.Current.Version);
    }

    [Fact]
    public async Task OverTls_TheTokenIsStillRequired()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        await using var gateway = await StartTlsAsync(bed);
        using var channel = WorkerChannel(gateway, _pki.CaFile, token: null);

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await new ReplayGateway.ReplayGatewayClient(channel).PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(8))));

        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        Assert.Equal(0, await bed.StoredAsync());
    }

    [Fact]
    public async Task APlaintextClient_AgainstTheTlsGateway_Fails_AndStoresNothing()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        await using var gateway = await StartTlsAsync(bed);
        using var channel = GatewayChannel.Create($"http://127.0.0.1:{gateway.Address.Port}", BearerToken.FromValue(Token));

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await new ReplayGateway.ReplayGatewayClient(channel).PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(8)),
                deadline: DateTime.UtcNow.AddSeconds(10)));

        Assert.NotEqual(StatusCode.OK, e.StatusCode);
        Assert.Equal(0, await bed.StoredAsync());
    }

    [Theory]
    [InlineData(true)] // trusts only another CA
    [InlineData(false)] // trusts the system store, which does not hold the test CA
    public async Task AClient_NotTrustingTheGatewaysCa_Fails_AndStoresNothing(bool otherCa)
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        await using var gateway = await StartTlsAsync(bed);
        using var channel = WorkerChannel(gateway, otherCa ? _pki.OtherCaFile : "");

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await new ReplayGateway.ReplayGatewayClient(channel).PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(8))));

        // The handshake fails on the client ("Internal" from grpc-dotnet, with the certificate error inside); a worker retries it.
        Assert.Equal(StatusCode.Internal, e.StatusCode);
        Assert.Contains("SSL connection could not be established", e.Status.Detail + e.Status.DebugException, StringComparison.Ordinal);
        Assert.Equal(0, await bed.StoredAsync());
    }

    [Theory]
    [InlineData(false)] // no client certificate
    [InlineData(true)] // a client certificate from another CA
    public async Task WithMutualTls_AClientWithoutACertificateFromTheClientCa_IsRefused_AndStoresNothing(bool foreignCertificate)
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        await using var gateway = await StartTlsAsync(bed, mutual: true);
        var client = foreignCertificate ? _pki.IssueClient("intruder", byOtherCa: true) : null;
        using var channel = WorkerChannel(gateway, _pki.CaFile, client: client);

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await new ReplayGateway.ReplayGatewayClient(channel).PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(8))));

        Assert.NotEqual(StatusCode.OK, e.StatusCode);
        Assert.Equal(0, await bed.StoredAsync());
        Assert.True(gateway.Tls!.RefusedClientCertificates >= 1);
    }

    [Fact]
    public async Task WithMutualTls_AClientCertificateFromTheClientCa_GetsIn()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        await using var gateway = await StartTlsAsync(bed, mutual: true);
        using var channel = WorkerChannel(gateway, _pki.CaFile, client: _pki.IssueClient());
        var client = new ReplayGateway.ReplayGatewayClient(channel);

        await client.GetRunInfoAsync(new GetRunInfoRequest { WorkerId = "worker-a" });
        var reply = await client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(8)));

        Assert.Equal(8, reply.Stored);
        Assert.Equal(0, gateway.Tls!.RefusedClientCertificates);
    }

    [Fact]
    public async Task ARotatedCertificate_IsServedToNewConnections_WithoutARestart()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        var served = _pki.IssueServer();
        await using var gateway = await StartTlsAsync(bed, certificate: served);
        var before = await ServedSerialAsync(gateway.Address.Port);

        var renewed = _pki.IssueServer("gateway-renewed");
        TestPki.Replace(served, renewed);
        string after = before;
        for (var deadline = DateTime.UtcNow.AddSeconds(10); after == before && DateTime.UtcNow < deadline; await Task.Delay(200))
            after = await ServedSerialAsync(gateway.Address.Port);

        Assert.Equal(served.Certificate.SerialNumber, before);
        Assert.Equal(renewed.Certificate.SerialNumber, after);
        using var channel = WorkerChannel(gateway, _pki.CaFile);
        await new ReplayGateway.ReplayGatewayClient(channel).GetRunInfoAsync(new GetRunInfoRequest { WorkerId = "worker-a" });
    }

    [Fact]
    public async Task AHalfWrittenRotation_KeepsServingThePreviousCertificate()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        var served = _pki.IssueServer();
        await using var gateway = await StartTlsAsync(bed, certificate: served);

        // The certificate is new, its key not yet: the pair does not match, so the old pair stays in use.
        File.Copy(_pki.IssueServer("gateway-next").CertFile, served.CertFile, overwrite: true);
        await Task.Delay(ReloadingFiles<PemCertificate>.RecheckInterval + TimeSpan.FromMilliseconds(300));

        Assert.Equal(served.Certificate.SerialNumber, await ServedSerialAsync(gateway.Address.Port));
        using var channel = WorkerChannel(gateway, _pki.CaFile);
        await new ReplayGateway.ReplayGatewayClient(channel).GetRunInfoAsync(new GetRunInfoRequest { WorkerId = "worker-a" });
    }

    [Fact]
    public async Task TheStartUpLog_SaysTlsAndMutualTlsAreOn()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        using var logs = new CapturedLogs();
        using var factory = logs.CreateFactory();

        await (await StartTlsAsync(bed, mutual: true, loggers: factory)).DisposeAsync();

        Assert.Contains(logs.Entries, e => e.Message.StartsWith("gRPC over mutual TLS", StringComparison.Ordinal));
        Assert.Contains(logs.Entries, e => e.Message.Contains("bound to https://127.0.0.1:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("https://127.0.0.1:0", false, false, "Gateway:TlsCertFile")]
    [InlineData("http://127.0.0.1:0", true, false, "listen on https://127.0.0.1:0")]
    [InlineData("http://127.0.0.1:0", false, true, "needs TLS")]
    public async Task MismatchedTlsSettings_AreRefusedAtStart_NamingTheFix(string listen, bool certificate, bool clientCa, string expected)
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        var server = _pki.IssueServer();
        var options = new GatewayOptions
        {
            Listen = listen,
            TlsCertFile = certificate ? server.CertFile : "",
            TlsKeyFile = certificate ? server.KeyFile : "",
            TlsClientCaFile = clientCa ? _pki.CaFile : "",
            StatusLogIntervalMs = 0,
        };

        var e = await Assert.ThrowsAsync<ArgumentException>(() => GatewayHost.StartAsync(options, bed.Replay));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AKeyThatDoesNotMatchTheCertificate_IsRefusedAtStart()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        var options = new GatewayOptions
        {
            Listen = "https://127.0.0.1:0",
            TlsCertFile = _pki.IssueServer().CertFile,
            TlsKeyFile = _pki.IssueServer("another").KeyFile,
            StatusLogIntervalMs = 0,
        };

        var e = await Assert.ThrowsAsync<ArgumentException>(() => GatewayHost.StartAsync(options, bed.Replay));

        Assert.Contains("Gateway:TlsKeyFile", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARealWorker_PushesThroughMutualTlsAndTheToken_EndToEnd()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        var pendulum = EnvironmentRegistry.GetSpec("Pendulum-v1");
        await bed.Learner.PublishWeightsAsync(1, RandomActor.Create(pendulum, [16, 16], seed: 4, version: 1).ToBytes(), CancellationToken.None);
        await using var gateway = await StartTlsAsync(bed, mutual: true);
        var client = _pki.IssueClient();
        var options = new WorkerOptions
        {
            Gateway = gateway.Address.ToString(),
            Token = Token,
            TlsCaFile = _pki.CaFile,
            TlsCertFile = client.CertFile,
            TlsKeyFile = client.KeyFile,
            WorkerId = "worker-tls",
            Envs = 4,
            BatchTransitions = 32,
            FlushIntervalMs = 20,
            MaxSteps = 1_000,
            PushTimeoutMs = 10_000,
            ProgressIntervalSeconds = 60,
        };

        var result = await new RolloutWorker(options, NullLoggerFactory.Instance).RunAsync(CancellationToken.None);

        Assert.Equal(1_000, result.AcknowledgedTransitions);
        Assert.Equal(1_000, await bed.StoredAsync());
        Assert.Equal(0, gateway.Tls!.RefusedClientCertificates);
    }

    private Task<GatewayHost> StartTlsAsync(GatewayTestbed bed, bool mutual = false, TestPki.Issued? certificate = null, ILoggerFactory? loggers = null)
    {
        certificate ??= _pki.IssueServer();
        var options = new GatewayOptions
        {
            Listen = "https://127.0.0.1:0",
            Token = Token,
            TlsCertFile = certificate.CertFile,
            TlsKeyFile = certificate.KeyFile,
            TlsClientCaFile = mutual ? _pki.CaFile : "",
            StatusLogIntervalMs = 0,
        };
        return GatewayHost.StartAsync(options, bed.Replay, loggers);
    }

    /// <summary>The worker's own channel (GatewayChannel + GatewayClientTls) to <paramref name="gateway"/>.</summary>
    private static GrpcChannel WorkerChannel(GatewayHost gateway, string caFile, TestPki.Issued? client = null, string? token = Token)
    {
        var options = new WorkerOptions
        {
            Gateway = gateway.Address.ToString(),
            TlsCaFile = caFile,
            TlsCertFile = client?.CertFile ?? "",
            TlsKeyFile = client?.KeyFile ?? "",
        };
        return GatewayChannel.Create(options.Gateway, token is null ? null : BearerToken.FromValue(token), GatewayClientTls.Resolve(options));
    }

    /// <summary>The serial number of the certificate a fresh TLS connection to 127.0.0.1:<paramref name="port"/> is served.</summary>
    private static async Task<string> ServedSerialAsync(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        await using var ssl = new SslStream(tcp.GetStream());
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = [SslApplicationProtocol.Http2],
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null, // only looking at what is served
        });
        return ssl.RemoteCertificate!.GetSerialNumberString();
    }
}
