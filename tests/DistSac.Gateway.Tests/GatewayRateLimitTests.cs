using DistSac.Protocol.V1;
using Grpc.Core;

namespace DistSac.Gateway.Tests;

/// <summary>
/// Ratio r = 1 update per transition, no warm-up allowance, tolerance 1 update. The learner's debt is
/// D = inserted * r - updates; a batch is admitted while D &lt;= 1 (Reverb's rule as DESIGN section 4 describes it).
/// </summary>
public sealed class GatewayRateLimitTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly GatewayOptions OneUpdatePerTransition = new()
    {
        RateLimit = 1.0,
        RateLimitTolerance = 1.0,
        RateLimitMinTransitions = 0,
        // A reconcile read this rare cannot release a push within any test: releases come from progress messages.
        ProgressReconcileMs = 60_000,
    };

    [Fact]
    public async Task Push_WhileWorkersAreAhead_IsHeldUntilTheLearnerCatchesUp()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, OneUpdatePerTransition);
        await bed.RegisterAsync("worker-a");
        await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(4))); // D = 0 before: admitted; D = 4 after

        var held = bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 1, GatewayTestbed.Records(4, batch: 1))).ResponseAsync;
        await GatewayWeightsTests.WaitUntilAsync(() => bed.Gateway.Counters.Holding == 1);
        Assert.False(held.IsCompleted);
        Assert.Equal(4, await bed.StoredAsync());

        await bed.Learner.PublishLearnerProgressAsync(updates: 3, weightsVersion: 0, CancellationToken.None); // D = 4 - 3 = 1 <= 1
        var ack = await held.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(4, ack.Stored);
        Assert.Equal(8, await bed.StoredAsync());
        Assert.Equal(1, bed.Gateway.Counters.HeldPushes);
    }

    [Fact]
    public async Task Push_HeldPastTheCallersDeadline_StoresNothingAndCanBeRetriedWithTheSameSequence()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, OneUpdatePerTransition);
        await bed.RegisterAsync("worker-a");
        await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(4)));
        var second = GatewayTestbed.Push("worker-a", 1, GatewayTestbed.Records(4, batch: 1));

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await bed.Client.PushAsync(second, deadline: DateTime.UtcNow.AddMilliseconds(300)));
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(4, await bed.StoredAsync());

        await bed.Learner.PublishLearnerProgressAsync(updates: 4, weightsVersion: 0, CancellationToken.None); // D = 0
        var retry = await bed.Client.PushAsync(second);

        Assert.Equal((4, false), (retry.Stored, retry.Duplicate));
        Assert.Equal(8, await bed.StoredAsync());
    }

    [Fact]
    public async Task Push_HeldLongerThanMaxHold_IsResourceExhaustedAndStoresNothing()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, OneUpdatePerTransition with { MaxHoldMs = 100 });
        await bed.RegisterAsync("worker-a");
        await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(4)));

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 1, GatewayTestbed.Records(4, batch: 1))));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("rate limiter", error.Status.Detail);
        Assert.Contains("same sequence", error.Status.Detail);
        Assert.Equal(4, await bed.StoredAsync());
        Assert.Equal(1, bed.Gateway.Counters.HoldTimeouts);
    }

    [Fact]
    public async Task Push_HeldWhenTheGatewayStops_IsUnavailableAndStoresNothing()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, OneUpdatePerTransition);
        await bed.RegisterAsync("worker-a");
        await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(4)));
        var held = bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 1, GatewayTestbed.Records(4, batch: 1))).ResponseAsync;
        await GatewayWeightsTests.WaitUntilAsync(() => bed.Gateway.Counters.Holding == 1);

        await bed.Gateway.StopAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => held);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("shutting down", error.Status.Detail);
        Assert.Equal(4, await bed.StoredAsync());
    }

    [Fact]
    public async Task Push_DuringTheWarmUp_IsNeverHeld()
    {
        // -1: the run's warm-up (10 transitions here) is inserted freely before the ratio applies.
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, OneUpdatePerTransition with { RateLimitMinTransitions = -1 }, warmup: 10);
        await bed.RegisterAsync("worker-a");

        for (int i = 0; i < 5; i++)
            await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", i, GatewayTestbed.Records(2, batch: i)));

        Assert.Equal(10, await bed.StoredAsync());
        Assert.Equal(0, bed.Gateway.Counters.HeldPushes);
    }

    [Fact]
    public async Task Push_WithRatioZero_IsNeverHeld()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, OneUpdatePerTransition with { RateLimit = 0 });
        await bed.RegisterAsync("worker-a");

        for (int i = 0; i < 10; i++)
            await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", i, GatewayTestbed.Records(50, batch: i)));

        Assert.Equal(500, await bed.StoredAsync());
        Assert.Equal(0, bed.Gateway.Counters.HeldPushes);
    }
}
