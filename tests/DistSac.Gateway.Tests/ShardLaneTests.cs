using System.Diagnostics;
using DistSac.Protocol.V1;
using DistSac.Testing;
using Grpc.Core;

namespace DistSac.Gateway.Tests;

/// <summary>
/// Pushes on explicit lanes (PushRequest.shard) through a real gateway on two real Redis shards: contiguous sequences
/// per (worker, incarnation, shard), the old sequence-mod-S scheme unchanged without the field, and the
/// distsac-not-stored trailer only where the gateway sent nothing to the shard.
/// </summary>
public sealed class ShardLaneTests
{
    private const string NotStored = ReplayGatewayService.NotStoredTrailerKey;

    [Fact]
    public async Task An_explicit_lane_takes_contiguous_sequences_on_its_own_shard_and_refuses_gaps_and_unknown_shards()
    {
        await using var a = await RedisServer.StartAsync();
        await using var b = await RedisServer.StartAsync();
        await using var bed = await GatewayTestbed.StartAsync(a, shards: [a, b]);
        var info = await bed.RegisterAsync("worker-l");
        long inc = info.Incarnation;

        var acks = new List<PushResponse>();
        for (int seq = 0; seq < 3; seq++)
            acks.Add(await bed.Client.PushAsync(GatewayTestbed.PushToShard("worker-l", 1, seq, GatewayTestbed.Records(2, seq), inc)));
        var lane0 = await bed.Client.PushAsync(GatewayTestbed.PushToShard("worker-l", 0, 0, GatewayTestbed.Records(2, 10), inc));
        var gap = await Assert.ThrowsAsync<RpcException>(async () =>
            await bed.Client.PushAsync(GatewayTestbed.PushToShard("worker-l", 1, 4, GatewayTestbed.Records(2, 4), inc)));
        var retry = await bed.Client.PushAsync(GatewayTestbed.PushToShard("worker-l", 1, 2, GatewayTestbed.Records(2, 2), inc));
        var badShard = await Assert.ThrowsAsync<RpcException>(async () =>
            await bed.Client.PushAsync(GatewayTestbed.PushToShard("worker-l", 2, 0, GatewayTestbed.Records(2, 20), inc)));

        Assert.Equal(2, info.ShardCount);
        Assert.All(acks, ack => Assert.Equal((2, false), (ack.Stored, ack.Duplicate)));
        Assert.Equal((2, false), (lane0.Stored, lane0.Duplicate));
        Assert.Equal(StatusCode.OutOfRange, gap.StatusCode);
        Assert.Contains($"sequence 4 of worker 'worker-l' incarnation {inc} skips sequence 3, which was never stored", gap.Status.Detail);
        Assert.Contains("lane on shard 1 is 2", gap.Status.Detail);
        Assert.Equal((0, true), (retry.Stored, retry.Duplicate));
        Assert.Equal(StatusCode.InvalidArgument, badShard.StatusCode);
        Assert.Contains("shard is 2; the run has 2 shard(s)", badShard.Status.Detail);
        var stats = await bed.Learner.ReadStatsAsync(CancellationToken.None);
        Assert.Equal((2L, 6L), (stats.Shards[0].TotalInserted, stats.Shards[1].TotalInserted));
    }

    [Fact]
    public async Task Without_a_shard_a_push_still_goes_to_sequence_mod_S_with_lanes_S_apart()
    {
        await using var a = await RedisServer.StartAsync();
        await using var b = await RedisServer.StartAsync();
        await using var bed = await GatewayTestbed.StartAsync(a, shards: [a, b]);
        long inc = (await bed.RegisterAsync("worker-o")).Incarnation;

        for (int seq = 0; seq < 4; seq++)
            await bed.Client.PushAsync(GatewayTestbed.Push("worker-o", seq, GatewayTestbed.Records(1, seq), inc));
        var five = await bed.Client.PushAsync(GatewayTestbed.Push("worker-o", 5, GatewayTestbed.Records(1, 5), inc)); // lane 1 holds 1, 3
        var gap = await Assert.ThrowsAsync<RpcException>(async () =>
            await bed.Client.PushAsync(GatewayTestbed.Push("worker-o", 8, GatewayTestbed.Records(1, 8), inc))); // lane 0 holds 0, 2

        Assert.Equal((1, false), (five.Stored, five.Duplicate));
        Assert.Equal(StatusCode.OutOfRange, gap.StatusCode);
        Assert.Contains("skips sequence 4", gap.Status.Detail);
        var stats = await bed.Learner.ReadStatsAsync(CancellationToken.None);
        Assert.Equal((2L, 3L), (stats.Shards[0].TotalInserted, stats.Shards[1].TotalInserted));
    }

    [Fact]
    public async Task A_disconnected_shard_answers_not_stored_for_explicit_lanes_only_and_the_other_shard_and_GetRunInfo_keep_working()
    {
        await using var a = await RedisServer.StartAsync();
        await using var b = await RedisServer.StartAsync();
        await using var bed = await GatewayTestbed.StartAsync(a, shards: [a, b]);
        long inc = (await bed.RegisterAsync("worker-d")).Incarnation;
        await bed.Client.PushAsync(GatewayTestbed.PushToShard("worker-d", 1, 0, GatewayTestbed.Records(1), inc));

        await b.KillAsync();
        // The gateway learns of the closed socket within moments; until then a push is sent and fails ambiguously.
        RpcException refused = null!;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            refused = await Assert.ThrowsAsync<RpcException>(async () =>
                await bed.Client.PushAsync(GatewayTestbed.PushToShard("worker-d", 1, 1, GatewayTestbed.Records(1, 1), inc)));
            if (refused.Trailers.GetValue(NotStored) is not null || deadline.Elapsed > TimeSpan.FromSeconds(15)) break;
            await Task.Delay(50);
        }
        var legacy = await Assert.ThrowsAsync<RpcException>(async () =>
            await bed.Client.PushAsync(GatewayTestbed.Push("worker-d", 1, GatewayTestbed.Records(1, 2), inc)));
        var healthy = await bed.Client.PushAsync(GatewayTestbed.PushToShard("worker-d", 0, 0, GatewayTestbed.Records(1, 3), inc));
        var joined = await bed.RegisterAsync("worker-e"); // reads the run-wide count, which must not need shard 1

        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Equal("1", refused.Trailers.GetValue(NotStored));
        Assert.Contains("nothing was sent", refused.Status.Detail);
        Assert.Equal(StatusCode.Unavailable, legacy.StatusCode);
        Assert.Null(legacy.Trailers.GetValue(NotStored)); // a push without a shard cannot move, so it is never told so
        Assert.Equal((1, false), (healthy.Stored, healthy.Duplicate));
        Assert.True(joined.Incarnation > 0);
    }

    [Fact]
    public async Task A_push_sent_to_a_shard_that_stopped_answering_fails_without_the_trailer_because_it_may_be_stored()
    {
        await using var a = await RedisServer.StartAsync();
        await using var b = await RedisServer.StartAsync();
        await using var bed = await GatewayTestbed.StartAsync(a, shards: [a, b]);
        long inc = (await bed.RegisterAsync("worker-t")).Incarnation;
        // A first push loads the insert script, so the one under test is sent straight away (a failed script load
        // before the insert is a certain "not stored").
        await bed.Client.PushAsync(GatewayTestbed.PushToShard("worker-t", 1, 0, GatewayTestbed.Records(1), inc));
        var push = GatewayTestbed.PushToShard("worker-t", 1, 1, GatewayTestbed.Records(3, 1), inc);

        Signal(b, "STOP"); // connected but silent: the script is sent and its answer never comes
        RpcException timedOut;
        try
        {
            timedOut = await Assert.ThrowsAsync<RpcException>(async () =>
                await bed.Client.PushAsync(push, deadline: DateTime.UtcNow.AddSeconds(60)));
        }
        finally
        {
            Signal(b, "CONT");
        }
        // The shard runs the script it received once it wakes: the batch is stored, and a retry must say so.
        PushResponse retried = null!;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                retried = await bed.Client.PushAsync(push);
                break;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && deadline.Elapsed < TimeSpan.FromSeconds(15))
            {
                await Task.Delay(100);
            }
        }

        Assert.Equal(StatusCode.Unavailable, timedOut.StatusCode);
        Assert.Null(timedOut.Trailers.GetValue(NotStored));
        Assert.Equal(1 + 3, (await bed.Learner.ReadStatsAsync(CancellationToken.None)).Shards[1].TotalInserted); // stored once
        Assert.Equal(retried.Duplicate ? 0 : 3, retried.Stored);
    }

    private static void Signal(RedisServer server, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", server.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }
}
