using System.Net;
using DistSac.Observability;
using DistSac.Replay;
using DistSac.Testing;
using StackExchange.Redis;

namespace DistSac.Learner.Tests;

/// <summary>
/// A replay shard that dies mid-run (a Redis pod restarted or rescheduled) never ends the run: the learner reports not
/// ready and distsac_replay_unavailable = 1; sampling from its mirror it keeps updating meanwhile, sampling from Redis
/// it pauses; either way it trains on once the shard answers again, here restarted empty at the same address (no
/// persistence), so its slice refills.
/// </summary>
public class LearnerShardOutageTests
{
    [Fact]
    public async Task Learner_keeps_updating_from_its_mirror_while_a_shard_is_down()
    {
        await using var shards = await KillableShards.StartAsync(2);
        await using var learner = await RunningLearner.StartAsync("mirror-outage", shards.Servers, o => o with { ReplayOutageTimeoutSeconds = 120 });
        Assert.Equal("mirror", learner.Options.Sampling);
        await LearnerHarness.InsertAsync(learner.Feeder, "feeder", firstSequence: 0, chunks: 8); // 4 chunks of 128 on each shard
        double before = await learner.WaitForMetricAsync("distsac_updates_total", v => v >= 30);

        await shards.KillAsync(1);
        await learner.WaitForMetricAsync("distsac_replay_unavailable", v => v == 1);
        double down = await learner.WaitForMetricAsync("distsac_updates_total", v => v >= before + 60);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await learner.Http.GetAsync("/readyz")).StatusCode);
        Assert.Equal(1, await MetricAsync(learner.Http, "distsac_replay_unavailable")); // still down, still updating

        await shards.RestartAsync(1);
        await learner.WaitForMetricAsync("distsac_replay_unavailable", v => v == 0);
        // The restarted shard refills; the feeder's own connection may reconnect a moment after the learner's.
        await LearnerHarness.InsertOnceSentAsync(learner.Feeder, "feeder", firstSequence: 8, chunks: 2);
        await learner.WaitForMetricAsync("distsac_updates_total", v => v >= down + 30);
        Assert.Equal(HttpStatusCode.OK, (await learner.Http.GetAsync("/readyz")).StatusCode);
        await learner.StopAsync();
    }

    private static async Task<double> MetricAsync(HttpClient http, string name) =>
        PrometheusText.Parse(await http.GetStringAsync("/metrics")).GetValueOrDefault(name, double.NaN);

    [Fact]
    public async Task Learner_sampling_from_redis_waits_out_a_shard_restart_and_goes_on_updating()
    {
        await using var shards = await KillableShards.StartAsync(2);
        await using var learner = await RunningLearner.StartAsync("outage", shards.Servers, o => o with { ReplayOutageTimeoutSeconds = 120, Sampling = "redis" });
        await LearnerHarness.InsertAsync(learner.Feeder, "feeder", firstSequence: 0, chunks: 8); // 4 chunks of 128 on each shard
        double before = await learner.WaitForMetricAsync("distsac_updates_total", v => v >= 30);

        await shards.KillAsync(1);
        await learner.WaitForMetricAsync("distsac_replay_unavailable", v => v == 1);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await learner.Http.GetAsync("/readyz")).StatusCode);
        Assert.False(learner.Running.IsCompleted, "the learner ended on a shard outage");

        await shards.RestartAsync(1);
        await learner.WaitForMetricAsync("distsac_replay_unavailable", v => v == 0);
        // The restarted shard refills; the feeder's own connection may reconnect a moment after the learner's.
        await LearnerHarness.InsertOnceSentAsync(learner.Feeder, "feeder", firstSequence: 8, chunks: 2);
        double after = await learner.WaitForMetricAsync("distsac_updates_total", v => v >= before + 30);
        Assert.Equal(HttpStatusCode.OK, (await learner.Http.GetAsync("/readyz")).StatusCode);
        Assert.True(after > before);
        await learner.StopAsync();
    }

    /// <summary>
    /// The case behind the test above's rare time-out: a learner sampling from Redis that is waiting for a batch when the
    /// shard dies (its prefetch queue empty) used to sit in that wait, never reporting the outage. Here the learner is
    /// parked there on purpose: shard 0's counters say 1,024 transitions were inserted (the warm-up is met) while no
    /// shard holds one to sample, so the prefetcher finds nothing and the learner waits for a batch.
    /// </summary>
    [Fact]
    public async Task Learner_sampling_from_redis_reports_a_shard_outage_while_it_waits_for_a_batch()
    {
        await using var shards = await KillableShards.StartAsync(2);
        await using var learner = await RunningLearner.StartAsync("batch-wait-outage", shards.Servers, o => o with { ReplayOutageTimeoutSeconds = 120, Sampling = "redis" });
        await learner.WaitForMetricAsync("distsac_rate_limiter_waiting{reason=\"warmup\"}", v => v == 1);
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(shards[0].Endpoint))
            await admin.GetDatabase().HashSetAsync(RunKeys.ShardState(learner.Replay.RunId, 0), "total", 1024);
        await learner.WaitForMetricAsync("distsac_rate_limiter_waiting{reason=\"warmup\"}", v => v == 0); // past the limiter: waiting for a batch
        await Task.Delay(500);
        Assert.Equal(0, await MetricAsync(learner.Http, "distsac_updates_total"));

        await shards.KillAsync(1);
        await learner.WaitForMetricAsync("distsac_replay_unavailable", v => v == 1);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await learner.Http.GetAsync("/readyz")).StatusCode);

        await shards.RestartAsync(1);
        await learner.WaitForMetricAsync("distsac_replay_unavailable", v => v == 0);
        Assert.False(learner.Running.IsCompleted, "the learner ended on a shard outage");
        await learner.StopAsync();
    }

    [Fact]
    public async Task Learner_keeps_updating_and_publishing_through_shard_1_while_shard_0_is_down_and_restores_shard_0_when_it_is_back()
    {
        await using var shards = await KillableShards.StartAsync(2);
        await using var learner = await RunningLearner.StartAsync("shard0-down", shards.Servers, o => o with { ReplayOutageTimeoutSeconds = 120 });
        string runId = learner.Replay.RunId;
        await using var shard1Direct = await ConnectionMultiplexer.ConnectAsync(shards[1].Endpoint);
        await LearnerHarness.InsertAsync(learner.Feeder, "feeder", firstSequence: 0, chunks: 8); // 4 chunks of 128 on each shard
        double before = await learner.WaitForMetricAsync("distsac_updates_total", v => v >= 30);

        await shards.KillAsync(0);
        long versionAtKill = await VersionAsync(shard1Direct, runId);
        // Weights and progress go on to shard 1: the learner does not pause at its next publish.
        double down = await learner.WaitForMetricAsync("distsac_updates_total", v => v >= before + 4 * learner.Options.PublishEvery);
        await learner.WaitForAsync(async () => await VersionAsync(shard1Direct, runId) >= versionAtKill + 2 * learner.Options.PublishEvery,
            "newer weights on shard 1 while shard 0 is down");

        var shard0 = await shards.RestartAsync(0); // empty
        await using var shard0Direct = await ConnectionMultiplexer.ConnectAsync(shard0.Endpoint);
        await learner.WaitForAsync(async () => await shard0Direct.GetDatabase().KeyExistsAsync(RunKeys.Meta(runId))
                                               && await VersionAsync(shard0Direct, runId) > versionAtKill,
            "the run metadata and the latest weights on shard 0 again");
        await learner.WaitForMetricAsync("distsac_updates_total", v => v >= down + 30);
        await learner.StopAsync();
    }

    private static async Task<long> VersionAsync(ConnectionMultiplexer shard, string runId)
    {
        var version = await shard.GetDatabase().HashGetAsync(RunKeys.Weights(runId), "version");
        return version.IsNull ? -1 : (long)version;
    }

    [Fact]
    public async Task Learner_recreates_the_run_when_shard_0_comes_back_empty()
    {
        await using var shards = await KillableShards.StartAsync(1);
        await using var learner = await RunningLearner.StartAsync("shard0", shards.Servers, o => o with { WarmupTransitions = 128, ReplayOutageTimeoutSeconds = 120 });
        await LearnerHarness.InsertAsync(learner.Feeder, "feeder", firstSequence: 0, chunks: 2);
        double before = await learner.WaitForMetricAsync("distsac_updates_total", v => v >= 30);

        await shards.RestartAsync(0); // killed, back empty: no metadata, no weights, no progress

        await using var after = await ShardedReplay.ConnectAsync(learner.Replay, logger: null, CancellationToken.None);
        await learner.WaitForAsync(async () => await after.ReadMetadataAsync(CancellationToken.None) is not null, "the run metadata to be re-created");
        await learner.WaitForAsync(async () => await after.ReadLatestWeightsAsync(CancellationToken.None) is not null, "the weights to be published again");
        Assert.True((await after.ReadLearnerProgressAsync(CancellationToken.None)).Updates >= (long)before);
        await LearnerHarness.InsertAsync(after, "feeder", firstSequence: 0, chunks: 2);
        await learner.WaitForMetricAsync("distsac_updates_total", v => v >= before + 30);
        await learner.StopAsync();
    }
}
