using DistSac.Replay;
using Microsoft.Extensions.Logging;

namespace DistSac.Gateway;

public enum PushStatus
{
    Stored,
    /// <summary>This (worker, incarnation, sequence) was stored before; acknowledged, nothing stored again.</summary>
    Duplicate,
    /// <summary>Bad batch, unknown worker or incarnation; nothing stored. Retrying the same batch cannot succeed.</summary>
    Invalid,
    /// <summary>The sequence skips one never stored, or is older than its lane (see the proto's Push); nothing stored, not retryable.</summary>
    OutOfOrder,
    /// <summary>The run has no (usable) metadata yet; nothing stored. Retry after the learner has started.</summary>
    RunNotReady,
    /// <summary>Held for MaxHoldMs by the rate limiter; nothing stored. Retry the same sequence.</summary>
    RateLimited,
    /// <summary>Redis is unreachable; the batch may or may not be stored. Retry the same sequence (idempotent).</summary>
    Unavailable,
    /// <summary>
    /// The batch's shard is unreachable and nothing was sent to it: certainly not stored by this call. A client may send
    /// the batch to another shard's lane (answered Unavailable with the <c>distsac-not-stored</c> trailer).
    /// </summary>
    NotStored,
}

/// <summary>The answer to one push. <see cref="Error"/> is set for every status but Stored and Duplicate.</summary>
public readonly record struct PushOutcome(PushStatus Status, int Stored, long TotalInserted, long LatestWeightsVersion, string? Error);

/// <summary>
/// One push from validation to acknowledgement, knowing nothing of gRPC: checks the batch against the run's record
/// layout and the worker registry (no I/O for a malformed batch), waits for the rate limiter, stores the batch in
/// one atomic idempotent insert, then reports the run-wide count and the latest weights version.
/// </summary>
public sealed partial class PushHandler(
    ShardedReplay replay, RunInfoProvider runs, WorkerRegistry workers, InsertAdmission admission,
    ReplayProgressMonitor progress, WeightsFanOut weights, GatewayCounters counters, ILogger<PushHandler> logger)
{
    private static readonly TimeSpan AckProgressMaxAge = TimeSpan.FromMilliseconds(100);

    /// <param name="shard">The explicit lane's shard (PushRequest.shard), or null for shard sequence mod S.</param>
    public async ValueTask<PushOutcome> PushAsync(string workerId, long incarnation, long sequence, int transitionCount, ReadOnlyMemory<byte> records,
        CancellationToken ct, uint? shard = null)
    {
        counters.Push();
        if (PushValidator.ValidateHeader(workerId, incarnation, sequence, transitionCount) is { } badHeader)
            return Reject(workerId, sequence, badHeader);
        if (shard >= (uint)replay.ShardCount)
            return Reject(workerId, sequence,
                $"shard is {shard}; the run has {replay.ShardCount} shard(s), so it must be 0 .. {replay.ShardCount - 1} (RunInfo.shard_count), or absent for shard sequence mod {replay.ShardCount}.");
        int reserved = 0;
        int stored = 0;
        try
        {
            var run = await runs.GetAsync(ct).ConfigureAwait(false);
            if (run.Status != RunLookupStatus.Found)
                return new PushOutcome(PushStatus.RunNotReady, 0, 0, weights.LatestVersion, run.Error);
            if (PushValidator.Validate(workerId, incarnation, sequence, transitionCount, records.Span, run.Bounds!) is { } bad)
                return Reject(workerId, sequence, bad);
            if (await workers.CheckAsync(workerId, incarnation, ct).ConfigureAwait(false) is { } unknown)
                return Reject(workerId, sequence, unknown);

            var admitted = await admission.WaitAsync(transitionCount, ct).ConfigureAwait(false);
            if (!admitted.Admitted)
                return new PushOutcome(PushStatus.RateLimited, 0, progress.LastEstimate?.TotalInserted ?? 0, weights.LatestVersion, admitted.Reason);
            reserved = admitted.Reserved;

            InsertResult result;
            try
            {
                result = shard is { } k
                    ? await replay.InsertIntoShardAsync(workerId, incarnation, (int)k, sequence, records, transitionCount, ct).ConfigureAwait(false)
                    : await replay.InsertAsync(workerId, incarnation, sequence, records, transitionCount, ct).ConfigureAwait(false);
            }
            catch (ReplaySequenceException e)
            {
                counters.Reject();
                LogRefused(logger, workerId, incarnation, sequence, e.Message);
                return new PushOutcome(PushStatus.OutOfOrder, 0, 0, weights.LatestVersion, e.Message);
            }
            stored = result.Stored;
            progress.Complete(reserved, stored);
            reserved = stored = 0;
            if (result.Duplicate) counters.Duplicate();
            else counters.Stored(result.Stored);

            var now = await AckProgressAsync(result, ct).ConfigureAwait(false);
            return new PushOutcome(result.Duplicate ? PushStatus.Duplicate : PushStatus.Stored, result.Stored,
                now.TotalInserted, Math.Max(now.WeightsVersion, weights.LatestVersion), null);
        }
        catch (ReplayUnavailableException e) when (e.NotSent && shard is not null)
        {
            // Only an explicit lane may move to another shard; a legacy push is bound to sequence mod S anyway.
            counters.Unreachable();
            LogNotSent(logger, workerId, sequence, shard.Value, e.Message);
            return new PushOutcome(PushStatus.NotStored, 0, 0, weights.LatestVersion,
                $"{e.Message}. The batch was certainly not stored: send it again, on this or another shard.");
        }
        catch (Exception e) when (RedisFailure.IsTransient(e))
        {
            counters.Unreachable();
            LogUnavailable(logger, workerId, sequence, e.Message);
            return new PushOutcome(PushStatus.Unavailable, 0, 0, weights.LatestVersion,
                $"replay storage (Redis) is unavailable: {e.Message}. Retry with the same sequence; a stored batch is not stored twice.");
        }
        finally
        {
            if (reserved != 0 || stored != 0) progress.Complete(reserved, stored);
        }
    }

    /// <summary>The run-wide numbers for the acknowledgement; the batch is already stored, so a failed read must not fail the push.</summary>
    private async ValueTask<ReplayProgress> AckProgressAsync(InsertResult result, CancellationToken ct)
    {
        try
        {
            return await progress.GetAsync(AckProgressMaxAge, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailure.IsTransient(e))
        {
            return progress.LastEstimate ?? new ReplayProgress(0, -1, result.ShardTotalInserted);
        }
    }

    private PushOutcome Reject(string workerId, long sequence, string error)
    {
        counters.Reject();
        // The id may be the reason for the rejection: escaped, so no control character reaches a log line.
        if (logger.IsEnabled(LogLevel.Debug)) LogRejected(logger, PushValidator.Escape(workerId ?? ""), sequence, error);
        return new PushOutcome(PushStatus.Invalid, 0, 0, weights.LatestVersion, error);
    }

    // Source-generated: these run per refused push, so a disabled level must cost no boxing and no argument array.
    [LoggerMessage(Level = LogLevel.Debug, Message = "Push {Worker}/{Incarnation}/{Sequence} refused: {Error}")]
    private static partial void LogRefused(ILogger logger, string worker, long incarnation, long sequence, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Push {Worker}/{Sequence} to shard {Shard} not sent: {Error}")]
    private static partial void LogNotSent(ILogger logger, string worker, long sequence, uint shard, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Push {Worker}/{Sequence} failed: Redis unavailable ({Error})")]
    private static partial void LogUnavailable(ILogger logger, string worker, long sequence, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Push {Worker}/{Sequence} rejected: {Error}")]
    private static partial void LogRejected(ILogger logger, string worker, long sequence, string error);
}
