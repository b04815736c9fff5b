using DistSac.Learning;
using DistSac.Replay;

namespace DistSac.Learner;

public sealed partial class DistributedLearner
{
    /// <summary>
    /// Safety net for a lost insert message (pub/sub drops them while a shard connection is down): a waiting learner
    /// re-reads the shard counters this often anyway. 5 reads a second, and only while it waits.
    /// </summary>
    private static readonly TimeSpan InsertWaitReconcile = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The learner's side of the rate limiter when it is ahead of the workers (or in the warm-up): instead of re-reading
    /// the shard counters every few milliseconds, it sleeps until a shard announces an insert (the insert script
    /// PUBLISHes each shard's total) or <see cref="InsertWaitReconcile"/> passes, then re-reads them once. The decision
    /// itself is the limiter's, on freshly read counters, exactly as before; only the wake-up changed.
    /// </summary>
    private async Task WaitForInsertsAsync(ShardedReplay replay, SamplesPerInsertRateLimiter limiter, SacLearner learner, LoopState loop,
        WakeSignal inserts, CancellationToken ct)
    {
        var next = inserts.Next; // taken before the read: an insert after it wakes us even if the read missed it
        loop.Stats = await ReadStatsNowAsync(replay, ct);
        if (!limiter.LearnerMayUpdate(learner.UpdateCount, loop.Stats.TotalInserted))
            await WakeSignal.WaitAsync(next, InsertWaitReconcile, TimeProvider.System, ct);
    }
}
