using DistSac.Protocol.V1;
using DistSac.Replay;
using Grpc.Core;

namespace DistSac.Gateway.Tests;

/// <summary>
/// The learner's contract in the run metadata: ratio r = 1 update per transition, no warm-up allowance, tolerance 1
/// update; the gateway has no rate setting of its own. The learner's debt is D = inserted * r - updates; a batch is
/// admitted while D &lt;= 1 (Reverb's rule as DESIGN section 4 describes it).
/// </summary>
public sealed class GatewayRateLimitTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    internal static readonly RateLimitContract OneUpdatePerTransition = new(UpdatesPerTransition: 1.0, Tolerance: 1.0, MinTransitions: 0);

    private static readonly GatewayOptions MessagesOnly = new()
    {
        // A reconcile read this rare cannot release a push within any test: releases come from progress messages.
        ProgressReconcileMs = 60_000,
    };

    private Task<GatewayTestbed> StartAsync(GatewayOptions? gateway = null, RateLimitContract? contract = null, long warmup = 0) =>
        GatewayTestbed.StartAsync(redis.Server, gateway ?? MessagesOnly, warmup: warmup, rateLimit: contract ?? OneUpdatePerTransition);

    /// <summary>worker-a's second push: 4 transitions at sequence 1.</summary>
    private static PushRequest SecondPush => GatewayTestbed.Push("worker-a", 1, GatewayTestbed.Records(4, batch: 1));

    /// <summary>worker-a registered and its first push of 4 transitions stored: at r = 1 the learner now owes D = 4.</summary>
    private static async Task StoreTheFirstPushAsync(GatewayTestbed bed)
    {
        await bed.RegisterAsync("worker-a");
        await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(4))); // D = 0 before: admitted; D = 4 after
    }

    /// <summary>worker-a registered, then its sequences 0 .. pushes - 1, each acknowledged before the next is sent.</summary>
    private static async Task PushInOrderAsync(GatewayTestbed bed, int pushes, int transitionsEach)
    {
        await bed.RegisterAsync("worker-a");
        for (int i = 0; i < pushes; i++)
            await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", i, GatewayTestbed.Records(transitionsEach, batch: i)));
    }

    /// <summary><see cref="SecondPush"/>, sent once the learner owes D = 4 at r = 1; returns when the gateway holds it.</summary>
    private static async Task<Task<PushResponse>> HoldTheSecondPushAsync(GatewayTestbed bed)
    {
        await StoreTheFirstPushAsync(bed);
        var held = bed.Client.PushAsync(SecondPush).ResponseAsync;
        await GatewayWeightsTests.WaitUntilAsync(() => bed.Gateway.Counters.Holding == 1);
        return held;
    }

    [Fact]
    public async Task Push_WhileWorkersAreAhead_IsHeldUntilTheLearnerCatchesUp()
    {
        await using var bed = await StartAsync();

        var held = await HoldTheSecondPushAsync(bed);
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
        await using var bed = await StartAsync();
        await StoreTheFirstPushAsync(bed);
        var second = SecondPush;

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
        await using var bed = await StartAsync(MessagesOnly with { MaxHoldMs = 100 });
        await StoreTheFirstPushAsync(bed);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await bed.Client.PushAsync(SecondPush));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("rate limiter", error.Status.Detail);
        Assert.Contains("same sequence", error.Status.Detail);
        Assert.Equal(4, await bed.StoredAsync());
        Assert.Equal(1, bed.Gateway.Counters.HoldTimeouts);
    }

    [Fact]
    public async Task Push_HeldWhenTheGatewayStops_IsUnavailableAndStoresNothing()
    {
        await using var bed = await StartAsync();
        var held = await HoldTheSecondPushAsync(bed);

        await bed.Gateway.StopAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => held);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("shutting down", error.Status.Detail);
        Assert.Equal(4, await bed.StoredAsync());
    }

    [Fact]
    public async Task Push_DuringTheWarmUp_IsNeverHeld()
    {
        // The learner's threshold (10 transitions here) is inserted freely before the ratio applies.
        await using var bed = await StartAsync(contract: OneUpdatePerTransition with { MinTransitions = 10 }, warmup: 10);
        await PushInOrderAsync(bed, pushes: 5, transitionsEach: 2);

        Assert.Equal(10, await bed.StoredAsync());
        Assert.Equal(0, bed.Gateway.Counters.HeldPushes);
    }

    [Fact]
    public async Task Push_WithRatioZero_IsNeverHeld()
    {
        await using var bed = await StartAsync(contract: OneUpdatePerTransition with { UpdatesPerTransition = 0 });
        await PushInOrderAsync(bed, pushes: 10, transitionsEach: 50);

        Assert.Equal(500, await bed.StoredAsync());
        Assert.Equal(0, bed.Gateway.Counters.HeldPushes);
    }

    [Fact]
    public async Task Push_IsHeldByTheLearnersRatioFromTheRunMetadata_NotByAnyGatewaySetting()
    {
        // r = 0.5, threshold 4, tolerance 1: after 4 free transitions and 4 more, D = 4 * 0.5 - 0 = 2 > 1, so the third push is held.
        var half = new RateLimitContract(UpdatesPerTransition: 0.5, Tolerance: 1, MinTransitions: 4);
        await using var bed = await StartAsync(new GatewayOptions { ProgressReconcileMs = 60_000 }, half);
        await bed.RegisterAsync("worker-a");
        await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(4)));
        await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 1, GatewayTestbed.Records(4, batch: 1))); // D = 0 before: admitted

        var held = bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 2, GatewayTestbed.Records(4, batch: 2))).ResponseAsync;
        await GatewayWeightsTests.WaitUntilAsync(() => bed.Gateway.Counters.Holding == 1);
        Assert.Equal(8, await bed.StoredAsync());

        await bed.Learner.PublishLearnerProgressAsync(updates: 1, weightsVersion: 0, CancellationToken.None); // D = 2 - 1 = 1 <= 1
        var ack = await held.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(4, ack.Stored);
        Assert.Equal(12, await bed.StoredAsync());
    }

    [Fact]
    public async Task A_learner_that_rewrites_the_contract_changes_what_a_running_gateway_admits()
    {
        await using var bed = await StartAsync(new GatewayOptions { ProgressReconcileMs = 200 });
        var held = await HoldTheSecondPushAsync(bed); // D = 4 at r = 1

        // The learner restarts with r = 0.1: D = 4 * 0.1 = 0.4 <= 1, so the held push may pass without a single update.
        await bed.Learner.InitializeRunAsync(bed.Metadata with { RateLimit = OneUpdatePerTransition with { UpdatesPerTransition = 0.1 } }, CancellationToken.None);
        var ack = await held.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(4, ack.Stored);
        Assert.Equal(0.1, (await bed.Learner.ReadMetadataAsync(CancellationToken.None))!.RateLimit!.UpdatesPerTransition);
    }
}
