using DistSac.Testing;
using StackExchange.Redis;

namespace DistSac.Learner.Tests;

/// <summary>
/// A learner ahead of the workers waits for transitions by sleeping on the shards' insert messages (the insert script
/// PUBLISHes), not by re-reading the shard counters every 2 ms; an insert wakes it.
/// </summary>
public class LearnerInsertWaitTests
{
    [Fact]
    public async Task Learner_ahead_of_the_workers_sleeps_until_an_insert_arrives()
    {
        await using var shard = await RedisServer.StartAsync();
        // One update per transition after a warm-up of 256, tolerance 1: after the warm-up the learner may do one
        // update, then waits for each further transition.
        await using var learner = await RunningLearner.StartAsync("wait", [shard], o => o with { UpdatesPerTransition = 1, RateLimitTolerance = 1 });
        await LearnerHarness.InsertAsync(learner.Feeder, "feeder", firstSequence: 0, chunks: 2); // the warm-up
        await learner.WaitForMetricAsync("distsac_updates_total", v => v >= 1);
        await Task.Delay(500); // the prefetcher's queue is full by now: nothing but the learner's wait reads the shard

        await using var observer = await ConnectionMultiplexer.ConnectAsync(shard.Endpoint + ",allowAdmin=true");
        var server = observer.GetServer(shard.Endpoint);
        long before = await RedisCommandStats.CallsAsync(server, "hmget");
        await Task.Delay(1000);
        long reads = await RedisCommandStats.CallsAsync(server, "hmget") - before;

        // A 200 ms reconcile is ~5 reads a second; the former Task.Delay(2) loop read ~300-500 times.
        Assert.InRange(reads, 0, 50);
        await LearnerHarness.InsertAsync(learner.Feeder, "feeder", firstSequence: 2, chunks: 1);
        await learner.WaitForMetricAsync("distsac_updates_total", v => v >= 100);
        await learner.StopAsync();
    }
}
