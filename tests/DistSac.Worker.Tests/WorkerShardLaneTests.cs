using Microsoft.Extensions.Logging.Abstractions;
using DistSac.Testing;

namespace DistSac.Worker.Tests;

/// <summary>
/// A worker on a run of several shards pushes on one lane per shard (PushRequest.shard): a shard that is down stops
/// only its own lane, a batch the gateway certainly did not store moves to another lane with its sequence given back,
/// and a batch that may have been stored stays on its lane.
/// </summary>
public class WorkerShardLaneTests
{
    private static TestGateway Gateway(int shards)
    {
        var gateway = new TestGateway();
        gateway.RunInfo.ShardCount = shards;
        return gateway;
    }

    [Fact]
    public async Task With_every_shard_up_batches_go_round_robin_with_contiguous_sequences_per_lane()
    {
        var gateway = Gateway(shards: 3);
        await using var server = await GatewayServer.StartNewAsync(gateway);

        var result = await new RolloutWorker(WorkerGatewayTests.Options(server, envs: 4, batch: 16, maxSteps: 960), NullLoggerFactory.Instance)
            .RunAsync(CancellationToken.None);

        var stored = gateway.LaneStored;
        Assert.Equal(960, result.AcknowledgedTransitions);
        Assert.Equal(960, stored.Sum(s => s.Value.Length / 40));
        Assert.Empty(gateway.Stored); // nothing on the legacy sequence-mod-S scheme
        for (uint shard = 0; shard < 3; shard++)
        {
            var sequences = stored.Where(s => s.Key.Shard == shard).Select(s => s.Key.Sequence).ToList();
            Assert.NotEmpty(sequences);
            Assert.Equal(Enumerable.Range(0, sequences.Count).Select(i => (long)i), sequences);
        }

        Assert.Equal(stored.Count, result.BatchesSent);
        Assert.Equal(0, result.ReboundBatches);
    }

    [Fact]
    public async Task A_shard_answered_not_stored_is_avoided_and_its_batch_goes_to_another_lane_with_the_sequence_given_back()
    {
        var gateway = Gateway(shards: 2);
        gateway.DownShards.Add(1);
        await using var server = await GatewayServer.StartNewAsync(gateway);

        var result = await new RolloutWorker(WorkerGatewayTests.Options(server, envs: 4, batch: 16, maxSteps: 800), NullLoggerFactory.Instance)
            .RunAsync(CancellationToken.None);

        var stored = gateway.LaneStored;
        var toShard1 = gateway.Attempts.Where(a => a.Shard == 1).ToList();
        Assert.Equal(800, result.AcknowledgedTransitions);
        Assert.All(stored, s => Assert.Equal(0u, s.Key.Shard));
        Assert.Equal(Enumerable.Range(0, stored.Count).Select(i => (long)i), stored.Select(s => s.Key.Sequence));
        Assert.NotEmpty(toShard1);
        Assert.All(toShard1, a => Assert.Equal(0, a.Sequence)); // each refusal gave sequence 0 back
        Assert.Equal(toShard1.Count, result.ReboundBatches);
        // Every refused batch was stored on shard 0 instead, exactly once.
        Assert.All(toShard1, a => Assert.Single(stored, s => s.Value.AsSpan().SequenceEqual(a.Records)));
        Assert.Equal(0, result.UnexpectedDuplicates);
    }

    [Fact]
    public async Task A_batch_that_may_have_been_stored_stays_on_its_lane_even_when_later_tries_say_not_stored_while_other_lanes_go_on()
    {
        var gateway = Gateway(shards: 2);
        await using var server = await GatewayServer.StartNewAsync(gateway);
        gateway.FailAmbiguously(1, 1);
        gateway.DownShards.Add(1);
        using var stop = new CancellationTokenSource();
        var running = new RolloutWorker(WorkerGatewayTests.Options(server, envs: 4, batch: 16), NullLoggerFactory.Instance).RunAsync(stop.Token);

        // The first batch for shard 1 failed ambiguously; its retries are answered not-stored, yet it must stay there.
        await Eventually.TrueAsync(() => gateway.Attempts.Count(a => a.Shard == 1) >= 3, "three tries on shard 1");
        long storedOnShard0 = gateway.LaneStored.Count;
        await Eventually.TrueAsync(() => gateway.LaneStored.Count >= storedOnShard0 + 20, "shard 0 to keep storing meanwhile");
        gateway.DownShards.Remove(1);
        await Eventually.TrueAsync(() => gateway.LaneStored.Any(s => s.Key.Shard == 1 && s.Key.Sequence >= 3), "shard 1 in use again");
        await stop.CancelAsync();
        var result = await running;

        var stuck = gateway.Attempts.First(a => a.Shard == 1);
        Assert.All(gateway.Attempts.Where(a => a.Records.AsSpan().SequenceEqual(stuck.Records)), a => Assert.Equal((1u, 0L), (a.Shard!.Value, a.Sequence)));
        Assert.Equal(stuck.Records, gateway.LaneStored.Single(s => s.Key == (1u, 0L)).Value);
        Assert.Equal(0, result.ReboundBatches);
        Assert.Equal(result.EnvSteps, result.AcknowledgedTransitions);
        Assert.Equal(result.AcknowledgedTransitions, gateway.LaneStored.Sum(s => s.Value.Length / 40));
    }

    [Fact]
    public async Task A_gateway_that_does_not_say_its_shard_count_gets_pushes_without_a_shard_as_before()
    {
        var gateway = Gateway(shards: 0);
        await using var server = await GatewayServer.StartNewAsync(gateway);

        var result = await new RolloutWorker(WorkerGatewayTests.Options(server, envs: 4, batch: 16, maxSteps: 320), NullLoggerFactory.Instance)
            .RunAsync(CancellationToken.None);

        Assert.Equal(320, result.AcknowledgedTransitions);
        Assert.All(gateway.Attempts, a => Assert.Null(a.Shard));
        Assert.Equal(Enumerable.Range(0, gateway.Stored.Count).Select(i => (long)i), gateway.Stored.Select(s => s.Key));
    }
}
