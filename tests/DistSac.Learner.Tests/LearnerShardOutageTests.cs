using System.Net;
using DistSac.Observability;
using DistSac.Learning;
using DistSac.Protocol;
using DistSac.Replay;
using DistSac.Testing;

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
        await using var shard0 = await RedisServer.StartAsync();
        var shard1 = await RedisServer.StartAsync();
        var runsRoot = Directory.CreateTempSubdirectory("distsac-learner-mirror-outage-");
        try
        {
            var replayOptions = new ReplayOptions
            {
                RunId = "mirror-outage-" + Guid.NewGuid().ToString("N")[..12],
                Shards = [shard0.Endpoint, shard1.Endpoint],
                CapacityPerShard = 100_000,
            };
            string listen = $"http://127.0.0.1:{FreePort.Next()}";
            var options = LearnerHarness.EndlessLearner(runsRoot.FullName, listen) with { ReplayOutageTimeoutSeconds = 120 };
            Assert.Equal("mirror", options.Sampling);
            var learner = new DistributedLearner(options, new SacOptions { BatchSize = 32 }, replayOptions);
            using var stop = new CancellationTokenSource();
            var running = learner.RunAsync(stop.Token);
            using var http = new HttpClient { BaseAddress = new Uri(listen) };
            await using var feeder = await ShardedReplay.ConnectAsync(replayOptions, logger: null, CancellationToken.None);
            await LearnerHarness.WaitForAsync(running, () => Task.FromResult(learner.Exporter.Ready), "the learner to publish its first weights");
            await feeder.RequireMetadataAsync(CancellationToken.None);
            await LearnerHarness.InsertAsync(feeder, "feeder", firstSequence: 0, chunks: 8); // 4 chunks of 128 on each shard
            double before = await LearnerHarness.WaitForMetricAsync(running, http, "distsac_updates_total", v => v >= 30);

            await shard1.KillAsync();
            await LearnerHarness.WaitForMetricAsync(running, http, "distsac_replay_unavailable", v => v == 1);
            double down = await LearnerHarness.WaitForMetricAsync(running, http, "distsac_updates_total", v => v >= before + 60);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/readyz")).StatusCode);
            Assert.Equal(1, await MetricAsync(http, "distsac_replay_unavailable")); // still down, still updating

            await using var restarted = await RedisServer.StartAsync(port: shard1.Port);
            await LearnerHarness.WaitForMetricAsync(running, http, "distsac_replay_unavailable", v => v == 0);
            // The restarted shard refills; the feeder's own connection may reconnect a moment after the learner's.
            await LearnerHarness.InsertOnceSentAsync(feeder, "feeder", firstSequence: 8, chunks: 2);
            await LearnerHarness.WaitForMetricAsync(running, http, "distsac_updates_total", v => v >= down + 30);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);

            await stop.CancelAsync();
            try
            {
                await running;
            }
            catch (OperationCanceledException)
            {
            }
        }
        finally
        {
            await shard1.DisposeAsync();
            runsRoot.Delete(recursive: true);
        }
    }

    private static async Task<double> MetricAsync(HttpClient http, string name) =>
        PrometheusText.Parse(await http.GetStringAsync("/metrics")).GetValueOrDefault(name, double.NaN);

    [Fact]
    public async Task Learner_sampling_from_redis_waits_out_a_shard_restart_and_goes_on_updating()
    {
        await using var shard0 = await RedisServer.StartAsync();
        var shard1 = await RedisServer.StartAsync();
        var runsRoot = Directory.CreateTempSubdirectory("distsac-learner-outage-");
        try
        {
            var replayOptions = new ReplayOptions
            {
                RunId = "outage-" + Guid.NewGuid().ToString("N")[..12],
                Shards = [shard0.Endpoint, shard1.Endpoint],
                CapacityPerShard = 100_000,
            };
            string listen = $"http://127.0.0.1:{FreePort.Next()}";
            var options = LearnerHarness.EndlessLearner(runsRoot.FullName, listen) with { ReplayOutageTimeoutSeconds = 120, Sampling = "redis" };
            var learner = new DistributedLearner(options, new SacOptions { BatchSize = 32 }, replayOptions);
            using var stop = new CancellationTokenSource();
            var running = learner.RunAsync(stop.Token);
            using var http = new HttpClient { BaseAddress = new Uri(listen) };
            await using var feeder = await ShardedReplay.ConnectAsync(replayOptions, logger: null, CancellationToken.None);
            await LearnerHarness.WaitForAsync(running, () => Task.FromResult(learner.Exporter.Ready), "the learner to publish its first weights");
            await feeder.RequireMetadataAsync(CancellationToken.None);
            await LearnerHarness.InsertAsync(feeder, "feeder", firstSequence: 0, chunks: 8); // 4 chunks of 128 on each shard

            double before = await LearnerHarness.WaitForMetricAsync(running, http, "distsac_updates_total", v => v >= 30);

            await shard1.KillAsync();
            await LearnerHarness.WaitForMetricAsync(running, http, "distsac_replay_unavailable", v => v == 1);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/readyz")).StatusCode);
            Assert.False(running.IsCompleted, "the learner ended on a shard outage");

            await using var restarted = await RedisServer.StartAsync(port: shard1.Port);
            await LearnerHarness.WaitForMetricAsync(running, http, "distsac_replay_unavailable", v => v == 0);
            // The restarted shard refills; the feeder's own connection may reconnect a moment after the learner's.
            await LearnerHarness.InsertOnceSentAsync(feeder, "feeder", firstSequence: 8, chunks: 2);
            double after = await LearnerHarness.WaitForMetricAsync(running, http, "distsac_updates_total", v => v >= before + 30);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
            Assert.True(after > before);

            await stop.CancelAsync();
            try
            {
                await running;
            }
            catch (OperationCanceledException)
            {
            }
        }
        finally
        {
            await shard1.DisposeAsync();
            runsRoot.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Learner_keeps_updating_and_publishing_through_shard_1_while_shard_0_is_down_and_restores_shard_0_when_it_is_back()
    {
        var shard0 = await RedisServer.StartAsync();
        await using var shard1 = await RedisServer.StartAsync();
        var runsRoot = Directory.CreateTempSubdirectory("distsac-learner-shard0-down-");
        try
        {
            var replayOptions = new ReplayOptions
            {
                RunId = "shard0-down-" + Guid.NewGuid().ToString("N")[..12],
                Shards = [shard0.Endpoint, shard1.Endpoint],
                CapacityPerShard = 100_000,
            };
            string listen = $"http://127.0.0.1:{FreePort.Next()}";
            var options = LearnerHarness.EndlessLearner(runsRoot.FullName, listen) with { ReplayOutageTimeoutSeconds = 120 };
            var learner = new DistributedLearner(options, new SacOptions { BatchSize = 32 }, replayOptions);
            using var stop = new CancellationTokenSource();
            var running = learner.RunAsync(stop.Token);
            using var http = new HttpClient { BaseAddress = new Uri(listen) };
            await using var feeder = await ShardedReplay.ConnectAsync(replayOptions, logger: null, CancellationToken.None);
            await using var shard1Direct = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(shard1.Endpoint);
            await LearnerHarness.WaitForAsync(running, () => Task.FromResult(learner.Exporter.Ready), "the learner to publish its first weights");
            await feeder.RequireMetadataAsync(CancellationToken.None);
            await LearnerHarness.InsertAsync(feeder, "feeder", firstSequence: 0, chunks: 8); // 4 chunks of 128 on each shard
            double before = await LearnerHarness.WaitForMetricAsync(running, http, "distsac_updates_total", v => v >= 30);

            int port = shard0.Port;
            await shard0.KillAsync();
            await shard0.DisposeAsync();
            long versionAtKill = await VersionAsync(shard1Direct, replayOptions.RunId);
            // Weights and progress go on to shard 1: the learner does not pause at its next publish.
            double down = await LearnerHarness.WaitForMetricAsync(running, http, "distsac_updates_total", v => v >= before + 4 * options.PublishEvery);
            await LearnerHarness.WaitForAsync(running, async () => await VersionAsync(shard1Direct, replayOptions.RunId) >= versionAtKill + 2 * options.PublishEvery,
                "newer weights on shard 1 while shard 0 is down");

            shard0 = await RedisServer.StartAsync(port: port); // empty
            await using var shard0Direct = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(shard0.Endpoint);
            await LearnerHarness.WaitForAsync(running, async () => await shard0Direct.GetDatabase().KeyExistsAsync(RunKeys.Meta(replayOptions.RunId))
                                                              && await VersionAsync(shard0Direct, replayOptions.RunId) > versionAtKill,
                "the run metadata and the latest weights on shard 0 again");
            await LearnerHarness.WaitForMetricAsync(running, http, "distsac_updates_total", v => v >= down + 30);

            await stop.CancelAsync();
            try
            {
                await running;
            }
            catch (OperationCanceledException)
            {
            }
        }
        finally
        {
            await shard0.DisposeAsync();
            runsRoot.Delete(recursive: true);
        }
    }

    private static async Task<long> VersionAsync(StackExchange.Redis.ConnectionMultiplexer shard, string runId)
    {
        var version = await shard.GetDatabase().HashGetAsync(RunKeys.Weights(runId), "version");
        return version.IsNull ? -1 : (long)version;
    }

    [Fact]
    public async Task Learner_recreates_the_run_when_shard_0_comes_back_empty()
    {
        var shard0 = await RedisServer.StartAsync();
        var runsRoot = Directory.CreateTempSubdirectory("distsac-learner-shard0-");
        try
        {
            var replayOptions = new ReplayOptions
            {
                RunId = "shard0-" + Guid.NewGuid().ToString("N")[..12],
                Shards = [shard0.Endpoint],
                CapacityPerShard = 100_000,
            };
            string listen = $"http://127.0.0.1:{FreePort.Next()}";
            var options = LearnerHarness.EndlessLearner(runsRoot.FullName, listen) with { WarmupTransitions = 128, ReplayOutageTimeoutSeconds = 120 };
            var learner = new DistributedLearner(options, new SacOptions { BatchSize = 32 }, replayOptions);
            using var stop = new CancellationTokenSource();
            var running = learner.RunAsync(stop.Token);
            using var http = new HttpClient { BaseAddress = new Uri(listen) };
            await LearnerHarness.WaitForAsync(running, () => Task.FromResult(learner.Exporter.Ready), "the learner to publish its first weights");
            await using (var feeder = await ShardedReplay.ConnectAsync(replayOptions, logger: null, CancellationToken.None))
            {
                await feeder.RequireMetadataAsync(CancellationToken.None);
                await LearnerHarness.InsertAsync(feeder, "feeder", firstSequence: 0, chunks: 2);
            }
            double before = await LearnerHarness.WaitForMetricAsync(running, http, "distsac_updates_total", v => v >= 30);

            int port = shard0.Port;
            await shard0.KillAsync();
            await shard0.DisposeAsync();
            shard0 = await RedisServer.StartAsync(port: port); // empty: no metadata, no weights, no progress

            await using var after = await ShardedReplay.ConnectAsync(replayOptions, logger: null, CancellationToken.None);
            await LearnerHarness.WaitForAsync(running, async () => await after.ReadMetadataAsync(CancellationToken.None) is not null, "the run metadata to be re-created");
            await LearnerHarness.WaitForAsync(running, async () => await after.ReadLatestWeightsAsync(CancellationToken.None) is not null, "the weights to be published again");
            Assert.True((await after.ReadLearnerProgressAsync(CancellationToken.None)).Updates >= (long)before);
            await LearnerHarness.InsertAsync(after, "feeder", firstSequence: 0, chunks: 2);
            await LearnerHarness.WaitForMetricAsync(running, http, "distsac_updates_total", v => v >= before + 30);

            await stop.CancelAsync();
            try
            {
                await running;
            }
            catch (OperationCanceledException)
            {
            }
        }
        finally
        {
            await shard0.DisposeAsync();
            runsRoot.Delete(recursive: true);
        }
    }
}
