using DistSac.Envs;
using DistSac.Worker;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistSac.Gateway.Tests;

/// <summary>A push is stored exactly once or refused, never acknowledged and dropped: through a real gateway on a real Redis.</summary>
public sealed class ExactlyOnceTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task AWorkerRestartedWithTheSameId_HasEveryPushStored_NotAnsweredDuplicate()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        long before = (await bed.RegisterAsync("worker-a")).Incarnation;
        for (int seq = 0; seq < 3; seq++)
            await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", seq, GatewayTestbed.Records(4, seq), before));

        long after = (await bed.RegisterAsync("worker-a")).Incarnation; // the restart: sequences begin at 0 again
        var acks = new List<(int Stored, bool Duplicate)>();
        for (int seq = 0; seq < 3; seq++)
        {
            var ack = await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", seq, GatewayTestbed.Records(4, 10 + seq), after));
            acks.Add((ack.Stored, ack.Duplicate));
        }

        Assert.True(after > before);
        Assert.All(acks, a => Assert.Equal((4, false), a));
        Assert.Equal(24, await bed.StoredAsync());
    }

    [Fact]
    public async Task AGap_IsOutOfRangeNamingTheExpectedSequence_AndStoresNothing()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        long incarnation = (await bed.RegisterAsync("worker-a")).Incarnation;
        await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(2), incarnation));

        var gap = await Assert.ThrowsAsync<RpcException>(async () =>
            await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 5, GatewayTestbed.Records(2, 5), incarnation)));
        var older = await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 1, GatewayTestbed.Records(2, 1), incarnation));

        Assert.Equal(StatusCode.OutOfRange, gap.StatusCode);
        Assert.Contains($"sequence 5 of worker 'worker-a' incarnation {incarnation} skips sequence 1, which was never stored", gap.Status.Detail);
        Assert.Equal((2, false), (older.Stored, older.Duplicate));
        Assert.Equal(4, await bed.StoredAsync());
    }

    [Fact]
    public async Task AnIncarnationNeverIssued_IsInvalidArgument()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        long incarnation = (await bed.RegisterAsync("worker-a")).Incarnation;

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(2), incarnation + 1000)));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains($"incarnation {incarnation + 1000} was never issued to worker 'worker-a' (the latest is {incarnation})", error.Status.Detail);
        Assert.Equal(0, await bed.StoredAsync());
    }

    [Fact]
    public async Task RealWorkers_RestartedUnderOneId_HaveAllTheirAcknowledgedTransitionsStored_AndNoneRefused()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        var pendulum = EnvironmentRegistry.GetSpec("Pendulum-v1");
        // A published actor, so the pushes are chosen by inference as well as by warm-up sampling; both must pass the bounds.
        await bed.Learner.PublishWeightsAsync(1, RandomActor.Create(pendulum, [16, 16], seed: 4, version: 1).ToBytes(), CancellationToken.None);
        var options = new WorkerOptions
        {
            Gateway = bed.Gateway.Address.ToString(),
            WorkerId = "worker-r",
            Envs = 4,
            BatchTransitions = 32,
            FlushIntervalMs = 20,
            MaxSteps = 1_000,
            PushTimeoutMs = 10_000,
            ProgressIntervalSeconds = 60,
        };

        var first = await new RolloutWorker(options, NullLoggerFactory.Instance).RunAsync(CancellationToken.None);
        var second = await new RolloutWorker(options, NullLoggerFactory.Instance).RunAsync(CancellationToken.None);

        Assert.Equal((1_000, 1_000), (first.AcknowledgedTransitions, second.AcknowledgedTransitions));
        Assert.Equal((0, 0), (first.Duplicates, second.Duplicates));
        Assert.NotEqual(first.Incarnation, second.Incarnation);
        Assert.Equal(2_000, (await bed.Learner.ReadWorkerTransitionsAsync(CancellationToken.None))["worker-r"]);
        Assert.Equal(2_000, await bed.StoredAsync());
        Assert.Equal(0, bed.Gateway.Counters.Rejected);
    }
}
