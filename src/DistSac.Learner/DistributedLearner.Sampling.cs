using System.Diagnostics;
using DistSac.Replay;
using Microsoft.Extensions.Logging;

namespace DistSac.Learner;

public sealed partial class DistributedLearner
{
    /// <summary>The learner's copy of the replay (Learner:Sampling = mirror); null when it samples from Redis per batch.</summary>
    private ReplayMirror? _mirror;
    private Stopwatch? _mirrorOutage;
    private TimeSpan _mirrorOutageReported;

    /// <summary>
    /// The mirror (started: it refills in the background) when Learner:Sampling is mirror; refuses to start when the
    /// mirror could not fit the learner's memory, naming the size and the setting that turns it off.
    /// </summary>
    private ReplayMirror? StartMirror(ShardedReplay replay, ReplayMetadata metadata)
    {
        if (_options.Sampling != "mirror") return null;
        long needed = (long)replay.ShardCount * metadata.CapacityPerShard * metadata.RecordBytes;
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (needed > available)
            throw new InvalidOperationException(
                $"the replay mirror would need up to {needed / (1024 * 1024)} MiB ({replay.ShardCount} shard(s) x {metadata.CapacityPerShard} records x " +
                $"{metadata.RecordBytes} bytes) but the learner may use {available / (1024 * 1024)} MiB; set Learner:Sampling = redis (sample from Redis " +
                "per batch) or lower Replay:CapacityPerShard.");
        var mirror = new ReplayMirror(replay, metadata, _logger);
        mirror.Start();
        return mirror;
    }

    /// <summary>
    /// How long the learner waits for a batch before it reads the shards' counters itself. The prefetcher retries an
    /// unreachable shard quietly, so a learner parked on an empty prefetch queue when a shard died would otherwise never
    /// report the outage (distsac_replay_unavailable, /readyz) nor give up after Learner:ReplayOutageTimeoutSeconds.
    /// </summary>
    private static readonly TimeSpan BatchWaitCheck = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The next batch. While none is ready, every <see cref="BatchWaitCheck"/> the shards' counters are read as the loop
    /// reads them (<see cref="ReadStatsAsync"/>): an unreachable shard is reported and waited out there, exactly as when
    /// the loop itself runs into it; and the run is checked as the loop checks it (<paramref name="checkRun"/>, at most once a second): a shard
    /// that came back empty leaves the mirror nothing to sample and, until the learner writes the run's metadata there
    /// again, gateways refuse every push, so waiting for a batch without restoring the run would wait forever. A ready
    /// batch costs nothing extra.
    /// </summary>
    private async ValueTask<PrefetchedBatch> NextBatchAsync(IBatchSource batches, ShardedReplay replay, LoopState loop, Func<Task> checkRun, CancellationToken ct)
    {
        var next = batches.NextAsync(ct);
        if (next.IsCompleted) return await next;
        var batch = next.AsTask();
        while (true)
        {
            try
            {
                return await batch.WaitAsync(BatchWaitCheck, ct);
            }
            catch (TimeoutException) when (!batch.IsCompleted)
            {
                loop.Stats = await ReadStatsNowAsync(replay, ct);
                await checkRun();
            }
        }
    }

    /// <summary>The counters read in the background for the update loop (<see cref="RefreshStatsAsync"/>).</summary>
    private readonly PendingRead<ReplayStats> _statsRead = new();

    /// <summary>
    /// Keeps the loop's copy of the shards' counters fresh without making an update wait for Redis: the first read is
    /// awaited; after that a read is started every 8 updates or 20 ms (<see cref="LoopState.ShouldRefreshStats"/>), as
    /// the loop used to await one, and its result is taken at the first iteration after it arrived. Inserted counts only
    /// grow, so a decision on counters one round trip older can only make the learner wait sooner, never let it update
    /// beyond the rate limit; and a learner that has to wait re-reads them fresh (<see cref="ReadStatsNowAsync"/>).
    /// </summary>
    private async ValueTask RefreshStatsAsync(ShardedReplay replay, LoopState loop, long updates, CancellationToken ct)
    {
        if (_statsRead.TryTake(out var fresh)) loop.Stats = fresh;
        if (loop.Stats is null) loop.Stats = await ReadStatsNowAsync(replay, ct);
        else if (!_statsRead.InFlight && loop.ShouldRefreshStats(updates)) _statsRead.Start(() => Task.Run(() => ReadStatsAsync(replay, ct), CancellationToken.None));
    }

    /// <summary>Counters read now and awaited (after the background read in flight, if any: one read at a time).</summary>
    private async Task<ReplayStats> ReadStatsNowAsync(ShardedReplay replay, CancellationToken ct)
    {
        await _statsRead.DrainAsync();
        return await ReadStatsAsync(replay, ct);
    }

    /// <summary>Where the update loop takes its batches: the mirror, or Redis through the prefetcher.</summary>
    private IBatchSource OpenBatchSource(ShardedReplay replay) => _mirror is { } mirror
        ? new MirrorBatchSource(mirror, _sac.BatchSize, _options.Seed)
        : new ReplayPrefetcher(replay, _sac.BatchSize, _options.PrefetchDepth, _options.Seed, _logger, _options.PrefetchParallelism);

    /// <summary>
    /// The shards' counters for the rate limiter. From Redis: waits out an unreachable shard (UntilAvailableAsync). With
    /// the mirror: a shard that is down contributes its last counters (nothing can be inserted into it meanwhile) and
    /// training goes on from what is mirrored; it is reported (distsac_replay_unavailable = 1, not ready, a warning) and
    /// after Learner:ReplayOutageTimeoutSeconds the learner gives up as before.
    /// </summary>
    private async Task<ReplayStats> ReadStatsAsync(ShardedReplay replay, CancellationToken ct)
    {
        if (_mirror is null) return await UntilAvailableAsync(replay.ReadStatsAsync, ct);
        var reading = await _mirror.ReadStatsAsync(ct);
        if (reading.Unavailable.Count == 0)
        {
            if (_mirrorOutage is not null)
            {
                Exporter.ReplayUnavailable(false);
                _logger.LogInformation("replay reachable again after {Seconds:F1} s", _mirrorOutage.Elapsed.TotalSeconds);
                _mirrorOutage = null;
            }
            return reading.Stats;
        }
        var down = reading.Unavailable[0];
        if (_mirrorOutage is null)
        {
            _mirrorOutage = Stopwatch.StartNew();
            _mirrorOutageReported = TimeSpan.Zero;
            Exporter.ReplayUnavailable(true);
            _logger.LogWarning("{Message}; training goes on from the replay mirror ({Mirrored} records: the other shards and what was mirrored from it) " +
                "for up to {Timeout} s (Learner:ReplayOutageTimeoutSeconds)", down.Message, _mirror.TotalFill, _options.ReplayOutageTimeoutSeconds);
        }
        else if (_mirrorOutage.Elapsed - _mirrorOutageReported >= TimeSpan.FromSeconds(30))
        {
            _mirrorOutageReported = _mirrorOutage.Elapsed;
            _logger.LogWarning("replay still unreachable after {Seconds:F0} s: {Message}; training from the mirror", _mirrorOutage.Elapsed.TotalSeconds, down.Message);
        }
        if (_mirrorOutage.Elapsed >= TimeSpan.FromSeconds(_options.ReplayOutageTimeoutSeconds)) throw down;
        return reading.Stats;
    }
}
