using System.Text.Json;
using DistSac.Learning;
using DistSac.Replay;
using DistSac.Testing;
using static DistSac.Learner.Tests.LearnerHarness;

namespace DistSac.Learner.Tests;

/// <summary>The distributed learner writes runs/&lt;id&gt;/tb/ beside metrics.jsonl, readable while it runs.</summary>
public sealed class LearnerEventFileTests : IAsyncDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("distsac-learner-tb-");
    private RedisServer? _redis;

    [Fact]
    public async Task Every_metrics_line_is_an_event_at_its_env_step_with_replay_and_worker_series()
    {
        _redis = await RedisServer.StartAsync();
        var replay = new ReplayOptions { RunId = "tb-" + Guid.NewGuid().ToString("N")[..12], Shards = [_redis.Endpoint], CapacityPerShard = 100_000 };
        var options = LearnerHarness.EndlessLearner(_root.FullName) with { CheckpointInterval = 0, PublishEvery = 5 };
        var learner = new DistributedLearner(options, new SacOptions { BatchSize = 32, HiddenSizes = [16, 16] }, replay);
        using var stop = new CancellationTokenSource();
        var running = learner.RunAsync(stop.Token);
        await WaitForAsync(running, () => Task.FromResult(learner.Exporter.Ready), "the learner to publish its first weights");
        await using var feeder = await ShardedReplay.ConnectAsync(replay, logger: null, CancellationToken.None);
        await InsertAsync(feeder, "worker-a", firstSequence: 0, chunks: 2);
        await InsertAsync(feeder, "worker-b", firstSequence: 0, chunks: 2);
        var tb = Path.Combine(_root.FullName, replay.RunId, "tb");
        // Read while the learner runs: what a live TensorBoard sees.
        await WaitForAsync(running, () => Task.FromResult(Directory.Exists(tb) && TfEventsReader.ReadDirectory(tb).Count >= 5), "four scalar events");
        await stop.CancelAsync();
        await running;

        var events = TfEventsReader.ReadDirectory(tb);
        var lines = File.ReadAllLines(Path.Combine(_root.FullName, replay.RunId, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();

        Assert.Equal("config", Assert.Single(events[1].Values).Tag);
        var scalars = events.Skip(2).ToList();
        Assert.Equal(lines.Select(l => l.GetProperty("env_steps").GetInt64()), scalars.Select(e => e.Step));
        for (int i = 0; i < lines.Count; i++)
        {
            var values = scalars[i].Values.ToDictionary(v => v.Tag, v => v.SimpleValue);
            var criticLoss = lines[i].GetProperty("critic_loss");
            if (criticLoss.ValueKind == JsonValueKind.Number) Assert.Equal((float)criticLoss.GetDouble(), values["train/critic_loss"]);
            else Assert.False(values.ContainsKey("train/critic_loss"));
            Assert.Equal(lines[i].GetProperty("shard_fill")[0].GetInt64(), values["replay/fill_shard_0"]);
            Assert.Equal((float)lines[i].GetProperty("staleness_mean").GetDouble(), values["replay/staleness_mean"]);
            Assert.Equal((float)lines[i].GetProperty("updates_per_s").GetDouble(), values["time/updates_per_s"]);
        }
        // worker-a's 256 transitions were stored before the first update, so the first worker reading holds them all.
        var workerA = scalars.SelectMany(e => e.Values).Where(v => v.Tag == "workers/env_steps/worker-a").Select(v => v.SimpleValue).ToList();
        Assert.NotEmpty(workerA);
        Assert.All(workerA, v => Assert.Equal(256f, v));
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null) await _redis.DisposeAsync();
        _root.Delete(recursive: true);
    }
}
