using DistSac.Protocol.V1;
using Grpc.Core;

namespace DistSac.Gateway.Tests;

public sealed class GatewayWeightsTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task WatchWeights_SendsTheLatestVersionFirstThenEachNewOne()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        await bed.Learner.PublishWeightsAsync(2, Actor(2), CancellationToken.None);
        await bed.Learner.PublishWeightsAsync(3, Actor(3), CancellationToken.None);
        using var cts = new CancellationTokenSource(Patience);
        using var call = bed.Client.WatchWeights(new WatchWeightsRequest { WorkerId = "worker-a", KnownVersion = -1 }, cancellationToken: cts.Token);

        var first = await NextAsync(call, cts.Token);
        await bed.Learner.PublishWeightsAsync(4, Actor(4), CancellationToken.None);
        var second = await NextAsync(call, cts.Token);

        Assert.Equal(3, first.Version);
        Assert.Equal(Actor(3), first.Actor.ToByteArray());
        Assert.Equal(4, second.Version);
        Assert.Equal(Actor(4), second.Actor.ToByteArray());
    }

    [Fact]
    public async Task WatchWeights_SkipsTheVersionTheWorkerAlreadyHas()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        await bed.Learner.PublishWeightsAsync(5, Actor(5), CancellationToken.None);
        await WaitUntilAsync(() => bed.Gateway.Services.GetService(typeof(WeightsFanOut)) is WeightsFanOut f && f.LatestVersion == 5);
        using var cts = new CancellationTokenSource(Patience);
        using var call = bed.Client.WatchWeights(new WatchWeightsRequest { WorkerId = "worker-a", KnownVersion = 5 }, cancellationToken: cts.Token);
        await WaitUntilAsync(() => bed.Gateway.Counters.WeightStreams == 1);

        await bed.Learner.PublishWeightsAsync(6, Actor(6), CancellationToken.None);
        var first = await NextAsync(call, cts.Token);

        Assert.Equal(6, first.Version);
    }

    [Fact]
    public async Task WatchWeights_EndsOnTheServerWhenTheWorkerCancels()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        using var cts = new CancellationTokenSource();
        using var call = bed.Client.WatchWeights(new WatchWeightsRequest { WorkerId = "worker-a", KnownVersion = -1 }, cancellationToken: cts.Token);
        await WaitUntilAsync(() => bed.Gateway.Counters.WeightStreams == 1);

        await cts.CancelAsync();

        await WaitUntilAsync(() => bed.Gateway.Counters.WeightStreams == 0);
    }

    [Fact]
    public async Task WatchWeights_CompletesCleanlyWhenTheGatewayStops()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        await bed.Learner.PublishWeightsAsync(1, Actor(1), CancellationToken.None);
        using var cts = new CancellationTokenSource(Patience);
        using var call = bed.Client.WatchWeights(new WatchWeightsRequest { WorkerId = "worker-a", KnownVersion = -1 }, cancellationToken: cts.Token);
        Assert.Equal(1, (await NextAsync(call, cts.Token)).Version);

        await bed.Gateway.StopAsync(cts.Token);

        Assert.False(await call.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    /// <summary>Actor bytes for a version: distinct per version, computed here rather than by the code under test.</summary>
    private static byte[] Actor(long version)
    {
        var bytes = new byte[1000];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(version * 31 + i);
        return bytes;
    }

    private static async Task<WeightsUpdate> NextAsync(AsyncServerStreamingCall<WeightsUpdate> call, CancellationToken ct)
    {
        Assert.True(await call.ResponseStream.MoveNext(ct), "the weights stream ended early");
        return call.ResponseStream.Current;
    }

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not reached");
            await Task.Delay(10);
        }
    }
}
