using DistSac.Learning;
using DistSac.Learning.Training;
using DistSac.Policy;
using DistSac.Replay;
using DistSac.Testing;
using static DistSac.Learner.Tests.LearnerHarness;

namespace DistSac.Learner.Tests;

/// <summary>
/// The distributed learner survives its own disk and restarts: a checkpoint folder that cannot be written is an error
/// in the log and a metric while training goes on, and a learner restarted with an older checkpoint (or none) publishes
/// weights versions above those already in Redis, so workers take them.
/// </summary>
public sealed class LearnerDurabilityTests : IAsyncDisposable
{
    private readonly List<DirectoryInfo> _roots = [];
    private RedisServer? _redis;

    private async Task<ReplayOptions> ReplayAsync()
    {
        _redis ??= await RedisServer.StartAsync();
        return new ReplayOptions { RunId = "durable-" + Guid.NewGuid().ToString("N")[..12], Shards = [_redis.Endpoint], CapacityPerShard = 100_000 };
    }

    private LearnerOptions Options(string listen, long checkpointInterval)
    {
        var root = Directory.CreateTempSubdirectory("distsac-learner-durability-");
        _roots.Add(root);
        return LearnerHarness.EndlessLearner(root.FullName, listen) with { CheckpointInterval = checkpointInterval, PublishEvery = 5 };
    }

    private static readonly SacOptions Sac = new() { BatchSize = 32, HiddenSizes = [16, 16] };

    [Fact]
    public async Task A_checkpoint_folder_that_cannot_be_written_is_counted_and_retried_while_training_goes_on()
    {
        var replay = await ReplayAsync();
        string listen = $"http://127.0.0.1:{FreePort.Next()}";
        var options = Options(listen, checkpointInterval: 20);
        var learner = new DistributedLearner(options, Sac, replay);
        using var stop = new CancellationTokenSource();
        var running = learner.RunAsync(stop.Token);
        using var http = new HttpClient { BaseAddress = new Uri(listen) };
        await using var feeder = await ShardedReplay.ConnectAsync(replay, logger: null, CancellationToken.None);
        await WaitForAsync(running, () => Task.FromResult(learner.Exporter.Ready), "the learner to publish its first weights");
        await InsertAsync(feeder, "feeder", firstSequence: 0, chunks: 4);
        await WaitForMetricAsync(running, http, "distsac_checkpoint_updates", v => v >= 20);

        // The checkpoint folder becomes a regular file: every write under it fails, as on a read-only or full disk.
        // Moved aside in one rename: a recursive delete races the saver, whose next .tmp can land in the folder mid-delete.
        var run = Path.Combine(options.RunsRoot, replay.RunId, "checkpoint");
        Directory.Move(run, run + ".moved-aside");
        File.WriteAllText(run, "not a folder");
        var failures = await WaitForMetricAsync(running, http, "distsac_checkpoint_write_failures_total", v => v >= 2);
        var updatesWhileFailing = await WaitForMetricAsync(running, http, "distsac_updates_total", v => v >= 80);
        Assert.False(running.IsCompleted, "the learner stopped on a failed checkpoint write");

        File.Delete(run);
        Directory.CreateDirectory(run);
        await WaitForMetricAsync(running, http, "distsac_checkpoint_updates", v => v > updatesWhileFailing);
        await stop.CancelAsync();
        var result = await running;

        Assert.True(failures >= 2);
        Assert.True(result.Stopped && result.CheckpointSaved);
        var learnerFile = Path.Combine(run, "learner.ckpt");
        using var restored = new SacLearner(3, 1, [-2f], [2f], Sac, TorchSharp.torch.CPU, 0);
        var state = LearnerCheckpoint.Load(RunDirectory.Create(options.RunsRoot, replay.RunId), restored, warning => Assert.Fail(warning))!;
        Assert.Equal(learnerFile, state.Path);
        Assert.Equal(result.Updates, restored.UpdateCount);
        Assert.Equal(result.Updates, ActorWeights.FromBytes(File.ReadAllBytes(Path.Combine(run, "actor.dsac"))).Version);
    }

    [Fact]
    public async Task An_unwritable_runs_root_is_a_clear_error_naming_the_setting()
    {
        var root = Directory.CreateTempSubdirectory("distsac-learner-durability-");
        _roots.Add(root);
        var file = Path.Combine(root.FullName, "a-file");
        File.WriteAllText(file, "");
        var options = Options("", checkpointInterval: 0) with { RunsRoot = Path.Combine(file, "runs") };
        var learner = new DistributedLearner(options, Sac, new ReplayOptions { RunId = "unwritable", Shards = ["127.0.0.1:1"] });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => learner.RunAsync(CancellationToken.None));

        Assert.Contains("Learner:RunsRoot", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_learner_restarted_with_an_older_checkpoint_or_none_publishes_versions_above_the_stored_one()
    {
        var replay = await ReplayAsync();
        await using var feeder = await ShardedReplay.ConnectAsync(replay, logger: null, CancellationToken.None);
        var first = Options($"http://127.0.0.1:{FreePort.Next()}", checkpointInterval: 10);
        var older = Path.Combine(first.RunsRoot, "older.ckpt");
        var learner = new DistributedLearner(first, Sac, replay);
        using (var stop = new CancellationTokenSource())
        {
            var running = learner.RunAsync(stop.Token);
            using var http = new HttpClient { BaseAddress = new Uri(first.HttpListen) };
            await WaitForAsync(running, () => Task.FromResult(learner.Exporter.Ready), "the learner to publish its first weights");
            await InsertAsync(feeder, "feeder", firstSequence: 0, chunks: 4);
            await WaitForMetricAsync(running, http, "distsac_checkpoint_updates", v => v >= 20);
            await CopyWhileRotatingAsync(Path.Combine(first.RunsRoot, replay.RunId, "checkpoint", "learner.ckpt"), older);
            await WaitForMetricAsync(running, http, "distsac_updates_total", v => v >= 80);
            await stop.CancelAsync();
            await running;
        }
        long stored = (await feeder.ReadLatestWeightsAsync(CancellationToken.None))!.Value.Version;
        Assert.True(stored >= 80, $"stored version {stored}");

        // Restarted from the older checkpoint (its volume restored from a backup, or learner.ckpt.prev after a fallback).
        var resumed = Options($"http://127.0.0.1:{FreePort.Next()}", checkpointInterval: 0);
        File.Copy(older, RunDirectory.Create(resumed.RunsRoot, replay.RunId).LearnerCheckpointPath);
        var (firstResumed, resumedAt) = await FirstPublishedVersionAsync(replay, resumed, feeder);
        Assert.True(resumedAt < stored, $"the copied checkpoint is at update {resumedAt}, not older than version {stored}");
        Assert.True(firstResumed > stored, $"a learner resumed at update {resumedAt} published version {firstResumed}, not above the stored {stored}");

        // No checkpoint at all (a lost volume): update 0, and versions still go on above the stored one.
        long storedNow = (await feeder.ReadLatestWeightsAsync(CancellationToken.None))!.Value.Version;
        var (firstFresh, freshAt) = await FirstPublishedVersionAsync(replay, Options($"http://127.0.0.1:{FreePort.Next()}", checkpointInterval: 0), feeder);
        Assert.True(freshAt < storedNow, $"the fresh learner was at update {freshAt}");
        Assert.True(firstFresh > storedNow, $"a fresh learner published version {firstFresh}, not above the stored {storedNow}");
    }

    /// <summary>
    /// Copies a checkpoint the running learner keeps rewriting: between its two renames (learner.ckpt to .prev, .tmp to
    /// learner.ckpt) the file is briefly absent, by design, so a missing file is tried again for up to 10 s.
    /// </summary>
    private static async Task CopyWhileRotatingAsync(string source, string destination)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                File.Copy(source, destination);
                return;
            }
            catch (FileNotFoundException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(5);
            }
        }
    }

    /// <summary>Starts a learner, reads the progress (update count, weights version) it published first or soon after, stops it.</summary>
    private static async Task<(long Version, long Updates)> FirstPublishedVersionAsync(ReplayOptions replay, LearnerOptions options, ShardedReplay feeder)
    {
        var learner = new DistributedLearner(options, Sac, replay);
        using var stop = new CancellationTokenSource();
        var running = learner.RunAsync(stop.Token);
        await WaitForAsync(running, () => Task.FromResult(learner.Exporter.Ready), "the learner to publish its first weights");
        var (updates, version) = await feeder.ReadLearnerProgressAsync(CancellationToken.None);
        await stop.CancelAsync();
        await running;
        return (version, updates);
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null) await _redis.DisposeAsync();
        foreach (var root in _roots) root.Delete(recursive: true);
    }
}
