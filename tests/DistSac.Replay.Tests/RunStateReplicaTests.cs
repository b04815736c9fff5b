using DistSac.Testing;
using StackExchange.Redis;

namespace DistSac.Replay.Tests;

/// <summary>
/// The run-level keys have a copy on every shard, so shard 0 is not special: with it killed (real redis-server, SIGKILL)
/// the run state is written to and read from shard 1, workers register, subscribers hear the learner; when it comes
/// back with an older copy (its append-only file) readers keep the newest and the owner is told to write it again.
/// </summary>
public sealed class RunStateReplicaTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task While_shard_0_is_down_the_run_state_is_written_to_and_read_from_shard_1()
    {
        await using var shards = await KillableShards.StartAsync(2);
        string run = TestRuns.NewRunId();
        await using var learner = await TestRuns.OpenAsync(shards.Servers, run, capacity: 100);
        await using var reader = await TestRuns.OpenAsync(shards.Servers, run, capacity: 100, initialize: false);
        await learner.PublishWeightsAsync(5, [5, 5], None);
        await learner.PublishLearnerProgressAsync(50, 5, None);

        await shards.KillAsync(0);
        await learner.PublishWeightsAsync(6, [6, 6, 6], None);
        await learner.PublishLearnerProgressAsync(60, 6, None);

        Assert.Equal(TestRuns.Metadata(run, 100, 2), await reader.ReadMetadataAsync(None));
        var weights = await reader.ReadLatestWeightsAsync(None);
        Assert.Equal(6, weights!.Value.Version);
        Assert.Equal([6, 6, 6], weights.Value.Actor);
        Assert.Equal(new LearnerProgress(60, 6, false), await reader.ReadLearnerStateAsync(None));
        long incarnation = await reader.RegisterWorkerAsync("new-worker", None);
        Assert.Equal(1, incarnation % 2); // issued by shard 1, from its own residue class
        Assert.True(await reader.IsWorkerKnownAsync("new-worker", None));
        Assert.Equal(new IssuedIncarnation(incarnation, Complete: false), await reader.ReadIssuedIncarnationAsync("new-worker", None));
        Assert.False((await learner.ShardsNeedingRunStateAsync(None)).Any); // the down shard is not asked
    }

    [Fact]
    public async Task A_shard_back_with_an_older_copy_is_reported_stale_and_readers_keep_the_newest()
    {
        await using var shards = await KillableShards.StartAsync(2, appendOnly: [0]);
        string run = TestRuns.NewRunId();
        await using var learner = await TestRuns.OpenAsync(shards.Servers, run, capacity: 100);
        await using var reader = await TestRuns.OpenAsync(shards.Servers, run, capacity: 100, initialize: false);
        await learner.PublishWeightsAsync(5, [5], None);
        await learner.PublishLearnerProgressAsync(50, 5, None);
        await Task.Delay(1200); // appendfsync everysec: the AOF holds version 5

        await shards.KillAsync(0);
        await learner.PublishWeightsAsync(6, [6], None); // shard 1 only
        await learner.PublishLearnerProgressAsync(60, 6, None);
        var shard0 = await shards.RestartAsync(0);
        await using (var direct = await ConnectionMultiplexer.ConnectAsync(shard0.Endpoint))
            Assert.Equal(5, (long)await direct.GetDatabase().HashGetAsync(RunKeys.Weights(run), "version")); // the older copy is back

        RunStateGaps gaps = new([], []);
        await Eventually.TrueAsync(async () => (gaps = await learner.ShardsNeedingRunStateAsync(None)).Any, "shard 0 to answer again and be reported", seconds: 20);
        Assert.Equal([0], gaps.Stale);
        Assert.Empty(gaps.MissingMetadata);
        await Eventually.TrueAsync(async () => await ShardAnswersAsync(reader, 0), "the reader's connection to shard 0 to be back", seconds: 20);
        Assert.Equal(6, (await reader.ReadLatestWeightsAsync(None))!.Value.Version);
        Assert.Equal(new LearnerProgress(60, 6, false), await reader.ReadLearnerStateAsync(None));
    }

    [Fact]
    public async Task A_shard_back_empty_is_reported_missing_the_metadata_and_gets_it_again()
    {
        await using var shards = await KillableShards.StartAsync(2);
        string run = TestRuns.NewRunId();
        await using var learner = await TestRuns.OpenAsync(shards.Servers, run, capacity: 100);
        var shard0 = await shards.RestartAsync(0); // killed, back empty

        RunStateGaps gaps = new([], []);
        await Eventually.TrueAsync(async () => (gaps = await learner.ShardsNeedingRunStateAsync(None)).Any, "shard 0 to answer again and be reported", seconds: 20);
        Assert.Equal([0], gaps.MissingMetadata);
        await learner.InitializeRunAsync(TestRuns.Metadata(run, 100, 2), None);
        await learner.PublishWeightsAsync(9, [9], None);

        await using var direct = await ConnectionMultiplexer.ConnectAsync(shard0.Endpoint);
        Assert.True(await direct.GetDatabase().KeyExistsAsync(RunKeys.Meta(run)));
        Assert.Equal(9, (long)await direct.GetDatabase().HashGetAsync(RunKeys.Weights(run), "version"));
        Assert.False((await learner.ShardsNeedingRunStateAsync(None)).Any);
    }

    [Fact]
    public async Task An_incarnation_is_above_every_one_a_shard_that_answers_knows_and_unique_per_issuing_shard()
    {
        await using var shards = await KillableShards.StartAsync(2);
        string run = TestRuns.NewRunId();
        await using var replay = await TestRuns.OpenAsync(shards.Servers, run, capacity: 100);
        // Shard 1 knows a later incarnation than shard 0 (issued while shard 0 was unreachable, say).
        long later = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1_000_000_001;
        await using (var direct = await ConnectionMultiplexer.ConnectAsync(shards[1].Endpoint))
            await direct.GetDatabase().HashSetAsync(RunKeys.Incarnations(run), "w", later);

        long fromShard0 = await replay.RegisterWorkerAsync("w", None);
        await shards.KillAsync(0);
        long fromShard1 = await replay.RegisterWorkerAsync("w", None);
        long again = await replay.RegisterWorkerAsync("w", None);

        Assert.True(fromShard0 > later, $"incarnation {fromShard0} is not above {later}, which shard 1 knew");
        Assert.Equal(0, fromShard0 % 2);
        Assert.True(fromShard1 > fromShard0, $"incarnation {fromShard1} after {fromShard0}: the copy on shard 1 was not raised");
        Assert.Equal(1, fromShard1 % 2);
        Assert.True(again > fromShard1, $"incarnation {again} after {fromShard1}");
    }

    [Fact]
    public async Task Subscribers_hear_the_learner_through_shard_1_while_shard_0_is_down()
    {
        await using var shards = await KillableShards.StartAsync(2);
        string run = TestRuns.NewRunId();
        await using var learner = await TestRuns.OpenAsync(shards.Servers, run, capacity: 100);
        await using var reader = await TestRuns.OpenAsync(shards.Servers, run, capacity: 100, initialize: false);
        var versions = new List<long>();
        var progress = new List<LearnerProgress>();
        await using var weightsSubscription = await reader.SubscribeWeightsAsync(v => { lock (versions) versions.Add(v); }, None);
        await using var progressSubscription = await reader.SubscribeLearnerProgressAsync(p => { lock (progress) progress.Add(p); }, None);
        await learner.PublishWeightsAsync(1, [1], None);
        await learner.PublishLearnerProgressAsync(10, 1, None);
        await Eventually.TrueAsync(() => Task.FromResult(Count(versions) == 1 && Count(progress) == 1), "version 1 to be heard", seconds: 20);

        await shards.KillAsync(0);
        await Eventually.TrueAsync(async () => !await ShardAnswersAsync(reader, 0), "the reader to see shard 0 down", seconds: 20);
        await learner.PublishWeightsAsync(2, [2], None);
        await learner.PublishLearnerProgressAsync(20, 2, None);
        await Eventually.TrueAsync(() => Task.FromResult(Count(versions) == 2 && Count(progress) == 2), "version 2 to be heard through shard 1", seconds: 20);

        lock (versions) Assert.Equal([1, 2], versions); // each version once: shard 1's copy of version 1 was not passed on
        lock (progress) Assert.Equal([new LearnerProgress(10, 1, false), new LearnerProgress(20, 2, false)], progress);
    }

    private static int Count<T>(List<T> list)
    {
        lock (list) return list.Count;
    }

    private static async Task<bool> ShardAnswersAsync(ShardedReplay replay, int shard)
    {
        try
        {
            await replay.ReadShardStatsAsync(shard, None);
            return true;
        }
        catch (ReplayUnavailableException)
        {
            return false;
        }
    }
}
