using System.Collections.Concurrent;
using DistSac.Protocol;
using DistSac.Protocol.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace DistSac.Gateway.Tests;

/// <summary>The bearer token on a real gateway (Kestrel on loopback, real Redis), asked as a foreign client would.</summary>
public sealed class GatewayAuthenticationTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private const string Token = "s3cret-token-0123456789abcdef";
    private static readonly GatewayOptions WithToken = new() { Token = Token };

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-token-0123456789abcdef")]
    [InlineData("s3cret-token-0123456789abcdef")] // the right value without the scheme
    public async Task Push_WithoutTheRightToken_IsUnauthenticatedAndStoresNothing(string? authorization)
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, WithToken);

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(8)), Headers(authorization)));

        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        Assert.Equal(0, await bed.StoredAsync());
    }

    [Fact]
    public async Task GetRunInfo_WithAWrongToken_IsUnauthenticatedAndRegistersNoWorker()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, WithToken);

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await bed.Client.GetRunInfoAsync(new GetRunInfoRequest { WorkerId = "intruder" }, Headers("Bearer wrong-token-0123456789abcdef")));

        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        Assert.False(await bed.Learner.IsWorkerKnownAsync("intruder", CancellationToken.None));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-token-0123456789abcdef")]
    public async Task WatchWeights_WithoutTheRightToken_StreamsNoWeights(string? authorization)
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, WithToken);
        await bed.Learner.PublishWeightsAsync(3, [1, 2, 3, 4], CancellationToken.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var call = bed.Client.WatchWeights(new WatchWeightsRequest { WorkerId = "intruder", KnownVersion = -1 }, Headers(authorization), cancellationToken: cts.Token);

        var e = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext(cts.Token));

        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        Assert.Equal(0, bed.Gateway.Counters.WeightStreams);
    }

    [Fact]
    public async Task Push_WithTheToken_IsStored_AndWeightsStream()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, WithToken);
        await bed.Learner.PublishWeightsAsync(3, [1, 2, 3, 4], CancellationToken.None);
        var headers = Headers("Bearer " + Token);

        await bed.Client.GetRunInfoAsync(new GetRunInfoRequest { WorkerId = "worker-a" }, headers);
        var reply = await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(8)), headers);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var call = bed.Client.WatchWeights(new WatchWeightsRequest { WorkerId = "worker-a", KnownVersion = -1 }, headers, cancellationToken: cts.Token);
        Assert.True(await call.ResponseStream.MoveNext(cts.Token));

        Assert.Equal(8, reply.Stored);
        Assert.Equal(8, await bed.StoredAsync());
        Assert.Equal(3, call.ResponseStream.Current.Version);
    }

    [Fact]
    public async Task GrpcHealth_StaysOpenWithoutAToken()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, WithToken);
        using var channel = GrpcChannel.ForAddress(bed.Gateway.Address);

        var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task TheToken_AppearsInNoLogLine_NorDoesAPresentedOne()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        var lines = new ConcurrentQueue<string>();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new LineCollector(lines)));
        var options = new GatewayOptions { Listen = "http://127.0.0.1:0", Token = Token, StatusLogIntervalMs = 0 };
        await using (var gateway = await GatewayHost.StartAsync(options, bed.Replay, loggers))
        {
            var client = bed.ClientFor(gateway);
            await Assert.ThrowsAsync<RpcException>(async () =>
                await client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(8)), Headers("Bearer presented-token-0123456789")));
            await client.GetRunInfoAsync(new GetRunInfoRequest { WorkerId = "worker-a" }, Headers("Bearer " + Token));
            await client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(8)), Headers("Bearer " + Token));
        }

        Assert.Contains(lines, l => l.Contains("Refused", StringComparison.Ordinal)); // the refusal is logged ...
        Assert.DoesNotContain(lines, l => l.Contains(Token, StringComparison.Ordinal)); // ... without either value
        Assert.DoesNotContain(lines, l => l.Contains("presented-token", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("http://0.0.0.0:0")]
    [InlineData("http://[::]:0")]
    public async Task AGatewayReachableFromOtherMachines_WithoutAToken_RefusesToStart(string listen)
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);

        var e = await Assert.ThrowsAsync<ArgumentException>(() =>
            GatewayHost.StartAsync(new GatewayOptions { Listen = listen, StatusLogIntervalMs = 0 }, bed.Replay));

        Assert.Contains("Gateway:TokenFile", e.Message, StringComparison.Ordinal);
        Assert.Contains("Gateway:AllowUnauthenticated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AGatewayReachableFromOtherMachines_StartsWithTheExplicitOptOut()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);

        await using var gateway = await GatewayHost.StartAsync(
            new GatewayOptions { Listen = "http://0.0.0.0:0", AllowUnauthenticated = true, StatusLogIntervalMs = 0 }, bed.Replay);

        var client = bed.ClientFor(gateway);
        await bed.RegisterAsync("worker-a", client);
        Assert.Equal(8, (await client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(8)))).Stored);
    }

    private static Metadata Headers(string? authorization)
    {
        var headers = new Metadata();
        if (authorization is not null) headers.Add(BearerToken.MetadataKey, authorization);
        return headers;
    }

    private sealed class LineCollector(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Line(lines);

        public void Dispose()
        {
        }

        private sealed class Line(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue(formatter(state, exception) + exception);
        }
    }
}
