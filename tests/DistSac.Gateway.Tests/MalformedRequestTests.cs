using DistSac.Protocol.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace DistSac.Gateway.Tests;

/// <summary>Raw bytes that are not protobuf, sent to a real gateway on loopback as a foreign client could.</summary>
public sealed class MalformedRequestTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(static (byte[] b) => b, static b => b);

    // 0x0A = field 1, length-delimited, then a length (255) longer than the rest of the body.
    private static readonly byte[] Truncated = [0x0A, 0xFF, 0x01, 0x41];
    // Tag 0 is never valid.
    private static readonly byte[] ZeroTag = [0x00, 0x01, 0x02];

    [Theory]
    [InlineData("Push")]
    [InlineData("GetRunInfo")]
    [InlineData("WatchWeights")]
    public async Task AGarbageBody_IsInvalidArgumentWithAShortMessage_AndTheGatewayKeepsServing(string method)
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        using var channel = GrpcChannel.ForAddress(bed.Gateway.Address);

        var error = await Assert.ThrowsAsync<RpcException>(() => CallRawAsync(channel, method, Truncated));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith($"the request body is not a valid distsac.v1.{method}Request protobuf message: ", error.Status.Detail);
        Assert.True(error.Status.Detail.Length < 200, error.Status.Detail);
        Assert.DoesNotContain(" at ", error.Status.Detail);
        await bed.RegisterAsync("worker-a");
        var ack = await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(3)));
        Assert.Equal(3, ack.Stored);
        Assert.Equal(3, await bed.StoredAsync());
    }

    [Fact]
    public async Task AFloodOfGarbage_IsLoggedOncePerClientPerInterval_WithoutAStackTrace()
    {
        using var logs = new CapturedLogs();
        using var factory = logs.CreateFactory();
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, loggerFactory: factory);
        using var channel = GrpcChannel.ForAddress(bed.Gateway.Address);

        for (int i = 0; i < 25; i++)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => CallRawAsync(channel, "Push", i % 2 == 0 ? Truncated : ZeroTag));
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        }

        var loud = logs.Entries.Where(e => e.Level >= LogLevel.Warning).ToList();
        var line = Assert.Single(loud);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("Malformed PushRequest from 127.0.0.1 answered InvalidArgument", line.Message);
        Assert.All(logs.Entries, e => Assert.Null(e.Exception));
        Assert.All(logs.Entries, e => Assert.DoesNotContain("   at ", e.Message));
        Assert.Equal(25, bed.Gateway.Services.GetService(typeof(MalformedRequestLog)) is MalformedRequestLog log ? log.Total : -1);
        Assert.Equal(0, await bed.StoredAsync());
    }

    [Fact]
    public void MalformedRequestLog_LogsAgainAfterTheInterval_WithTheCountItHeldBack()
    {
        using var logs = new CapturedLogs();
        using var factory = logs.CreateFactory();
        var log = new MalformedRequestLog(factory.CreateLogger<MalformedRequestLog>()) { Interval = TimeSpan.FromMilliseconds(200) };

        for (int i = 0; i < 5; i++) log.Report("10.0.0.1", "PushRequest", "bad");
        log.Report("10.0.0.2", "PushRequest", "bad");
        Thread.Sleep(300);
        log.Report("10.0.0.1", "PushRequest", "bad");

        var lines = logs.Entries.Select(e => e.Message).ToList();
        Assert.Equal(3, lines.Count);
        Assert.Contains("from 10.0.0.1", lines[0]);
        Assert.Contains("from 10.0.0.2", lines[1]);
        Assert.Contains("(4 more from this client", lines[2]);
    }

    private static async Task CallRawAsync(GrpcChannel channel, string method, byte[] body)
    {
        var invoker = channel.CreateCallInvoker();
        if (method == "WatchWeights")
        {
            var stream = new Method<byte[], byte[]>(MethodType.ServerStreaming, ReplayGateway.Descriptor.FullName, method, Raw, Raw);
            using var call = invoker.AsyncServerStreamingCall(stream, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)), body);
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
            return;
        }
        var unary = new Method<byte[], byte[]>(MethodType.Unary, ReplayGateway.Descriptor.FullName, method, Raw, Raw);
        await invoker.AsyncUnaryCall(unary, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)), body);
    }
}
