using DistSac.Protocol.V1;
using DistSac.Testing;
using Grpc.Core;

namespace DistSac.Gateway.Tests;

public sealed class GatewayStatelessnessTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task TwoGateways_OnTheSameShards_ShareWorkersSequencesAndWeights()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        var other = bed.ClientFor(await bed.StartGatewayAsync());
        await bed.RegisterAsync("worker-a"); // registered through the first gateway only
        var batch = GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(6));

        var viaSecond = await other.PushAsync(batch);
        var retryViaFirst = await bed.Client.PushAsync(batch);
        await bed.Learner.PublishWeightsAsync(9, [1, 2, 3], CancellationToken.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var watchFirst = bed.Client.WatchWeights(new WatchWeightsRequest { WorkerId = "worker-a", KnownVersion = -1 }, cancellationToken: cts.Token);
        using var watchSecond = other.WatchWeights(new WatchWeightsRequest { WorkerId = "worker-b", KnownVersion = -1 }, cancellationToken: cts.Token);

        Assert.Equal((6, false), (viaSecond.Stored, viaSecond.Duplicate));
        Assert.Equal((0, true), (retryViaFirst.Stored, retryViaFirst.Duplicate));
        Assert.Equal(6, await bed.StoredAsync());
        Assert.True(await watchFirst.ResponseStream.MoveNext(cts.Token));
        Assert.True(await watchSecond.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(9, watchFirst.ResponseStream.Current.Version);
        Assert.Equal(9, watchSecond.ResponseStream.Current.Version);
    }

    [Fact]
    public async Task Push_WhileRedisIsDown_IsUnavailableSoTheWorkerRetries()
    {
        await using var ownRedis = await RedisServer.StartAsync();
        await using var bed = await GatewayTestbed.StartAsync(ownRedis);
        await bed.RegisterAsync("worker-a");
        await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(2)));

        await ownRedis.KillAsync();
        // Concurrently: each waits out the Redis client's command timeout (5 s by default).
        var pushing = Assert.ThrowsAsync<RpcException>(async () =>
            await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 1, GatewayTestbed.Records(2, batch: 1))));
        var registering = Assert.ThrowsAsync<RpcException>(() => bed.RegisterAsync("worker-b"));
        var push = await pushing;
        var info = await registering;

        Assert.Equal(StatusCode.Unavailable, push.StatusCode);
        Assert.Contains("Retry with the same sequence", push.Status.Detail);
        Assert.Equal(StatusCode.Unavailable, info.StatusCode);
        Assert.Equal(1, bed.Gateway.Counters.Unavailable);
    }
}
