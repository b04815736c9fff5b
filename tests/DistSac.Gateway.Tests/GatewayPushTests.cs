using DistSac.Protocol;
using DistSac.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;

namespace DistSac.Gateway.Tests;

public sealed class GatewayPushTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task GetRunInfo_DescribesTheRunTheLearnerCreated()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, warmup: 500);

        var info = await bed.RegisterAsync("worker-a");

        Assert.Equal(bed.Replay.RunId, info.RunId);
        Assert.Equal("Pendulum-v1", info.EnvId);
        Assert.Equal(3, info.ObservationSize);
        Assert.Equal(1, info.ActionSize);
        Assert.Equal(7, info.Seed);
        Assert.Equal(500, info.WarmupTransitions);
        Assert.Equal(40, info.RecordBytes);
        Assert.Equal(4096, info.MaxBatchTransitions);
        Assert.Equal(0, info.TotalInserted);
        Assert.Equal(1, info.ProtocolVersion);
        Assert.InRange(info.Incarnation, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.True(await bed.Learner.IsWorkerKnownAsync("worker-a", CancellationToken.None));
    }

    [Fact]
    public async Task GetRunInfo_BeforeTheLearnerStarted_IsFailedPreconditionSoWorkersRetry()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, createRun: false);

        var error = await Assert.ThrowsAsync<RpcException>(() => bed.RegisterAsync("worker-a"));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("start the learner first", error.Status.Detail);
    }

    [Fact]
    public async Task Push_StoresTheRecordsByteForByte()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        await bed.RegisterAsync("worker-a");
        var records = GatewayTestbed.Records(5);

        var ack = await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 0, records));

        Assert.Equal(5, ack.Stored);
        Assert.False(ack.Duplicate);
        Assert.Equal(5, ack.TotalInserted);
        Assert.Equal(5, await bed.StoredAsync());
        var sample = new byte[64 * GatewayTestbed.RecordBytes];
        await bed.Learner.SampleAsync(64, new Random(1), sample, CancellationToken.None);
        var pushed = new HashSet<string>();
        for (int i = 0; i < 5; i++) pushed.Add(Convert.ToHexString(records, i * 40, 40));
        for (int i = 0; i < 64; i++) Assert.Contains(Convert.ToHexString(sample, i * 40, 40), pushed);
    }

    [Fact]
    public async Task Push_RetriedWithTheSameSequence_IsAcknowledgedAsDuplicateAndStoredOnce()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        await bed.RegisterAsync("worker-a");
        var request = GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(8));

        var first = await bed.Client.PushAsync(request);
        var retry = await bed.Client.PushAsync(request);

        Assert.Equal((8, false), (first.Stored, first.Duplicate));
        Assert.Equal((0, true), (retry.Stored, retry.Duplicate));
        Assert.Equal(8, retry.TotalInserted);
        Assert.Equal(8, await bed.StoredAsync());
        Assert.Equal(1, bed.Gateway.Counters.Duplicates);
    }

    public static TheoryData<string, string> BadPushes => new()
    {
        { "empty worker id", "worker_id is empty" },
        { "worker id of 129 characters", "at most 128" },
        { "negative sequence", "sequence is -1" },
        { "no incarnation", "incarnation is 0; every push carries RunInfo.incarnation" },
        { "zero transitions", "transition_count is 0" },
        { "4097 transitions", "at most 4096" },
        { "records one byte short", "records has 79 bytes" },
        { "NaN reward", "reward" },
        { "infinite observation", "obs[1]" },
        { "terminated 0.5", "terminated = 0.5" },
        { "unregistered worker", "call GetRunInfo first" },
        { "action 5", "record 1 has action[0] = 5, outside [-2, 2], the action bounds of Pendulum-v1" },
        { "observation 3e38", "record 0 has obs[0] = 3E+38, outside [-1, 1]" },
        { "positive reward", "record 1 has reward = 1, outside [-16.273605, 0], the reward range of Pendulum-v1" },
    };

    [Theory]
    [MemberData(nameof(BadPushes))]
    public async Task Push_OfABadBatch_IsInvalidArgumentWithAHelpfulMessageAndStoresNothing(string bad, string expectedMessage)
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        await bed.RegisterAsync("worker-a");
        var request = BadPush(bad);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await bed.Client.PushAsync(request));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(expectedMessage, error.Status.Detail);
        Assert.Equal(0, await bed.StoredAsync());
        Assert.Equal(1, bed.Gateway.Counters.Rejected);
    }

    [Fact]
    public async Task GetRunInfo_WithAControlCharacterInTheWorkerId_EscapesItInTheStatus()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);

        var error = await Assert.ThrowsAsync<RpcException>(() => bed.RegisterAsync("pod\u001b[2J-7"));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("worker_id \"pod\\u001b[2J-7\" has \"\\u001b\" at index 3", error.Status.Detail);
        Assert.DoesNotContain('\u001b', error.Status.Detail);
    }

    [Fact]
    public async Task ARunOfAnEnvironmentTheGatewayDoesNotKnow_IsRefusedClearly()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, envId: "Acrobot-v9");

        var info = await Assert.ThrowsAsync<RpcException>(() => bed.RegisterAsync("worker-a"));
        var push = await Assert.ThrowsAsync<RpcException>(async () =>
            await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(1))));

        Assert.Equal(StatusCode.FailedPrecondition, info.StatusCode);
        Assert.Contains("uses environment 'Acrobot-v9', which this gateway does not know (it knows Pendulum-v1, MountainCarContinuous-v0)", info.Status.Detail);
        Assert.Equal(StatusCode.FailedPrecondition, push.StatusCode);
        Assert.Equal(0, await bed.StoredAsync());
    }

    [Fact]
    public async Task Push_LargerThanTheMessageLimit_IsRefusedByGrpcAndStoresNothing()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        await bed.RegisterAsync("worker-a");
        var unlimited = bed.ClientFor(bed.Gateway, maxSendBytes: null);
        var request = new PushRequest
        {
            WorkerId = "worker-a",
            Sequence = 0,
            TransitionCount = 4096,
            Records = ByteString.CopyFrom(new byte[ProtocolLimits.MaxMessageBytes + 1]),
        };

        var error = await Assert.ThrowsAsync<RpcException>(async () => await unlimited.PushAsync(request));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal(0, await bed.StoredAsync());
    }

    [Fact]
    public async Task Push_BeforeTheLearnerStarted_IsFailedPrecondition()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, createRun: false);

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(1))));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
    }

    private static PushRequest BadPush(string bad)
    {
        var records = GatewayTestbed.Records(2);
        var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(records.AsSpan());
        const int floatsPerRecord = 10; // 40 bytes
        switch (bad)
        {
            case "empty worker id": return GatewayTestbed.Push("", 0, records);
            case "worker id of 129 characters": return GatewayTestbed.Push(new string('w', 129), 0, records);
            case "negative sequence": return GatewayTestbed.Push("worker-a", -1, records);
            case "no incarnation": return GatewayTestbed.Push("worker-a", 0, records, incarnation: 0);
            case "zero transitions": return new PushRequest { WorkerId = "worker-a", Incarnation = 1, Sequence = 0, TransitionCount = 0, Records = ByteString.Empty };
            case "4097 transitions": return GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(4097));
            case "records one byte short":
                return new PushRequest { WorkerId = "worker-a", Incarnation = 1, Sequence = 0, TransitionCount = 2, Records = ByteString.CopyFrom(records, 0, 79) };
            case "NaN reward":
                floats[floatsPerRecord + 4] = float.NaN; // record 1: obs[3], action[1], reward at index 4
                return GatewayTestbed.Push("worker-a", 0, records);
            case "infinite observation":
                floats[1] = float.PositiveInfinity;
                return GatewayTestbed.Push("worker-a", 0, records);
            case "terminated 0.5":
                floats[8] = 0.5f; // obs 3 + action 1 + reward 1 + next_obs 3 = index 8
                return GatewayTestbed.Push("worker-a", 0, records);
            case "unregistered worker": return GatewayTestbed.Push("worker-never-registered", 0, records);
            case "action 5":
                floats[floatsPerRecord + 3] = 5f;
                return GatewayTestbed.Push("worker-a", 0, records);
            case "observation 3e38":
                floats[0] = 3e38f;
                return GatewayTestbed.Push("worker-a", 0, records);
            case "positive reward":
                floats[floatsPerRecord + 4] = 1f;
                return GatewayTestbed.Push("worker-a", 0, records);
            default: throw new ArgumentException(bad);
        }
    }
}
