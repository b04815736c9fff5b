using DistSac.Learning;
using DistSac.Protocol;
using DistSac.Replay;
using DistSac.Testing;
using StackExchange.Redis;

namespace DistSac.Learner.Tests;

/// <summary>
/// Records that reach Redis without the gateway (anything that can write to it) must not kill the learner: bad ones
/// are quarantined and training goes on; corrupt shard state is a clear error, never a crash.
/// </summary>
public class LearnerBadDataTests
{
    // The mirror sees records overwritten in Redis behind the insert cursor through its scrub (ReplayMirror.ScrubShardAsync).
    [Theory]
    [InlineData("mirror")]
    [InlineData("redis")]
    public async Task Learner_quarantines_bad_records_written_straight_into_redis_and_keeps_training(string sampling)
    {
        await using var redis = await RedisServer.StartAsync();
        var runsRoot = Directory.CreateTempSubdirectory("distsac-learner-baddata-");
        try
        {
            var (replayOptions, options, listen) = Settings(redis, runsRoot);
            options = options with { Sampling = sampling };
            await using var feeder = await ShardedReplay.ConnectAsync(replayOptions, logger: null, CancellationToken.None);
            var learner = new DistributedLearner(options, new SacOptions { BatchSize = 64 }, replayOptions);
            using var stop = new CancellationTokenSource();
            var running = learner.RunAsync(stop.Token);
            await LearnerHarness.WaitForAsync(running, () => Task.FromResult(learner.Exporter.Ready), "the learner to publish its first weights");
            await LearnerHarness.InsertAsync(feeder, "feeder", firstSequence: 0, chunks: 2); // slots 0..255

            // Poison: a NaN observation in slot 5, terminated = 0.5 in slot 9, a finite but absurd 3e38 in slot 12 (the
            // gateway refuses all three; here they reach Redis directly).
            var layout = new TransitionRecord(3, 1);
            await using var direct = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
            var data = RunKeys.ShardData(replayOptions.RunId, 0);
            await direct.GetDatabase().HashSetAsync(data, "5", Record(layout, obs0: float.NaN, terminated: 0f));
            await direct.GetDatabase().HashSetAsync(data, "9", Record(layout, obs0: 0.5f, terminated: 0.5f));
            await direct.GetDatabase().HashSetAsync(data, "12", Record(layout, obs0: 3e38f, terminated: 0f));

            using var http = new HttpClient { BaseAddress = new Uri(listen) };
            double quarantined = await LearnerHarness.WaitForMetricAsync(running, http, "distsac_learner_quarantined_records_total", v => v >= 3);
            double updates = await LearnerHarness.WaitForMetricAsync(running, http, "distsac_updates_total", v => v >= 100);
            Assert.True(quarantined >= 3);
            Assert.False(running.IsCompleted, "the learner stopped on bad records");
            var weights = await feeder.ReadLatestWeightsAsync(CancellationToken.None);
            Assert.NotNull(weights);
            Assert.True(weights.Value.Version > 0, "the learner published no weights after the bad records");
            // ActorWeights refuses non-finite values when it reads them.
            DistSac.Policy.ActorWeights.FromBytes(weights.Value.Actor);

            await stop.CancelAsync();
            await StopAsync(running);
        }
        finally
        {
            runsRoot.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_non_numeric_fill_in_a_shard_state_stops_the_learner_with_an_error_naming_the_key()
    {
        await using var redis = await RedisServer.StartAsync();
        var runsRoot = Directory.CreateTempSubdirectory("distsac-learner-corrupt-");
        try
        {
            var (replayOptions, options, _) = Settings(redis, runsRoot);
            await using var feeder = await ShardedReplay.ConnectAsync(replayOptions, logger: null, CancellationToken.None);
            var learner = new DistributedLearner(options, new SacOptions { BatchSize = 64 }, replayOptions);
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            var running = learner.RunAsync(stop.Token);
            await LearnerHarness.WaitForAsync(running, () => Task.FromResult(learner.Exporter.Ready), "the learner to publish its first weights");
            await LearnerHarness.InsertAsync(feeder, "feeder", firstSequence: 0, chunks: 2);
            await using var direct = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
            await direct.GetDatabase().HashSetAsync(RunKeys.ShardState(replayOptions.RunId, 0), "fill", "lots");

            var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => running);
            Assert.Contains("'fill'", error.Message, StringComparison.Ordinal);
            Assert.Contains("'lots'", error.Message, StringComparison.Ordinal);
            Assert.Contains(RunKeys.ShardState(replayOptions.RunId, 0), error.Message, StringComparison.Ordinal);
        }
        finally
        {
            runsRoot.Delete(recursive: true);
        }
    }

    private static (ReplayOptions Replay, LearnerOptions Learner, string Listen) Settings(RedisServer redis, DirectoryInfo runsRoot)
    {
        var replay = new ReplayOptions { RunId = "bad-" + Guid.NewGuid().ToString("N")[..12], Shards = [redis.Endpoint], CapacityPerShard = 100_000 };
        string listen = $"http://127.0.0.1:{FreePort.Next()}";
        var learner = LearnerHarness.EndlessLearner(runsRoot.FullName, listen) with { WarmupTransitions = 64, PublishEvery = 10 };
        return (replay, learner, listen);
    }

    private static byte[] Record(TransitionRecord layout, float obs0, float terminated)
    {
        var record = new byte[layout.RecordBytes];
        layout.Write(record, [obs0, 0.5f, 0.1f], [0.3f], -1f, [0.5f, 0.5f, 0.1f], terminated: false, policyVersion: 0);
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(record.AsSpan(0, 4 * layout.FloatCount))[layout.TerminatedOffset] = terminated;
        return record;
    }

    private static async Task StopAsync(Task running)
    {
        try
        {
            await running;
        }
        catch (OperationCanceledException)
        {
        }
    }
}
