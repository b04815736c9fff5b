using DistSac.Replay;
using StackExchange.Redis;

namespace DistSac.Gateway.Tests;

/// <summary>
/// Held pushes wake on the learner's progress messages (pub/sub), fall back to a slow reconcile read when a message is
/// lost, and are no longer held once the learner marked training finished. Same ratio as GatewayRateLimitTests:
/// r = 1, no warm-up, tolerance 1, so after a first batch of 4 the learner owes 4 updates and the next push is held.
/// </summary>
public sealed class GatewayProgressNotificationTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly GatewayOptions MessagesOnly = new()
    {
        ProgressReconcileMs = 60_000, // no reconcile within a test: only a message can release a push
    };

    [Fact]
    public async Task HeldPush_CostsNoRedisReadsWhileTheLearnerIsIdle()
    {
        await using var bed = await StartHeldAsync(MessagesOnly);
        var monitor = Monitor(bed);
        long readsWhenHeld = monitor.Reads;

        await Task.Delay(1000); // the former 5 ms poll read progress ~200 times here

        Assert.Equal(1, bed.Gateway.Counters.Holding);
        Assert.Equal(readsWhenHeld, monitor.Reads);
    }

    [Fact]
    public async Task HeldPush_IsReleasedByTheLearnersProgressMessage()
    {
        await using var bed = await StartHeldAsync(MessagesOnly);

        await bed.Learner.PublishLearnerProgressAsync(updates: 3, weightsVersion: 0, CancellationToken.None); // D = 1 <= 1
        var ack = await bed.HeldPush!.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(4, ack.Stored);
        Assert.Equal(8, await bed.Bed.StoredAsync());
    }

    [Fact]
    public async Task HeldPush_WithoutAnyProgressMessage_IsReleasedByTheReconcileRead()
    {
        await using var bed = await StartHeldAsync(MessagesOnly with { ProgressReconcileMs = 200 });

        // The learner's hash moves but nothing is published: as if the message was lost on a reconnect.
        await using var redisClient = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { bed.Bed.Replay.Shards[0] },
            Password = bed.Bed.Replay.Password,
        });
        await redisClient.GetDatabase().HashSetAsync(RunKeys.Learner(bed.Bed.Replay.RunId), "updates", 3);
        var ack = await bed.HeldPush!.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(4, ack.Stored);
        Assert.Equal(8, await bed.Bed.StoredAsync());
    }

    [Fact]
    public async Task HeldPush_IsReleasedWhenTheLearnerFinishes_AndLaterPushesAreNotHeld()
    {
        await using var bed = await StartHeldAsync(MessagesOnly);

        await bed.Learner.PublishLearnerProgressAsync(new LearnerProgress(Updates: 0, WeightsVersion: 0, Finished: true), CancellationToken.None);
        var released = await bed.HeldPush!.WaitAsync(TimeSpan.FromSeconds(20));
        var next = await bed.Bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 2, GatewayTestbed.Records(4, batch: 2)));

        Assert.Equal((4, 4), (released.Stored, next.Stored));
        Assert.Equal(12, await bed.Bed.StoredAsync());
        Assert.Equal(1, bed.Gateway.Counters.HeldPushes);
    }

    [Fact]
    public async Task ARestartedLearner_ClearsFinished_AndPushesAreHeldAgain()
    {
        await using var bed = await StartHeldAsync(MessagesOnly);
        await bed.Learner.PublishLearnerProgressAsync(new LearnerProgress(0, 0, Finished: true), CancellationToken.None);
        await bed.HeldPush!.WaitAsync(TimeSpan.FromSeconds(20)); // D = 8

        await bed.Learner.PublishLearnerProgressAsync(updates: 0, weightsVersion: 0, CancellationToken.None); // resumed: not finished
        var held = bed.Bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 2, GatewayTestbed.Records(4, batch: 2))).ResponseAsync;
        await GatewayWeightsTests.WaitUntilAsync(() => bed.Gateway.Counters.Holding == 1);

        Assert.False(held.IsCompleted);
        await bed.Learner.PublishLearnerProgressAsync(updates: 7, weightsVersion: 0, CancellationToken.None); // D = 1
        Assert.Equal(4, (await held.WaitAsync(TimeSpan.FromSeconds(20))).Stored);
    }

    private static ReplayProgressMonitor Monitor(HeldBed bed) =>
        (ReplayProgressMonitor)bed.Gateway.Services.GetService(typeof(ReplayProgressMonitor))!;

    /// <summary>A run with 4 transitions stored and no updates, and a second push of 4 held by the rate limiter.</summary>
    private async Task<HeldBed> StartHeldAsync(GatewayOptions options)
    {
        var bed = await GatewayTestbed.StartAsync(redis.Server, options, rateLimit: GatewayRateLimitTests.OneUpdatePerTransition);
        try
        {
            await bed.RegisterAsync("worker-a");
            await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(4)));
            var held = bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 1, GatewayTestbed.Records(4, batch: 1))).ResponseAsync;
            await GatewayWeightsTests.WaitUntilAsync(() => bed.Gateway.Counters.Holding == 1);
            Assert.False(held.IsCompleted);
            return new HeldBed(bed, held);
        }
        catch
        {
            await bed.DisposeAsync();
            throw;
        }
    }

    private sealed record HeldBed(GatewayTestbed Bed, Task<DistSac.Protocol.V1.PushResponse>? HeldPush) : IAsyncDisposable
    {
        public GatewayHost Gateway => Bed.Gateway;
        public ShardedReplay Learner => Bed.Learner;
        public ValueTask DisposeAsync() => Bed.DisposeAsync();
    }
}
