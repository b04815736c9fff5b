using DistSac.Protocol.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace DistSac.Worker;

/// <summary>How a push of one batch on one lane ended.</summary>
public enum PushDelivery
{
    /// <summary>Stored (now or by an earlier try) and acknowledged.</summary>
    Acknowledged,
    /// <summary>
    /// The batch is certainly not stored: every try on this lane was answered "not stored" (its shard was down and the
    /// gateway sent nothing to it). Its sequence may be given back and the batch sent on another lane.
    /// </summary>
    NotStored,
}

/// <summary>
/// Delivers one PushRequest, retrying the very same request object (same lane, sequence and bytes) with back-off on
/// any transient failure until it is acknowledged or the token ends it. Because the gateway de-duplicates by
/// (worker id, incarnation, lane, sequence), a batch whose acknowledgement was lost is stored exactly once. A push on
/// an explicit lane (shard set) that the gateway answers with the not-stored trailer, before any try that may have
/// stored it, ends with <see cref="PushDelivery.NotStored"/> so the caller can send it elsewhere.
/// </summary>
public sealed class BatchPusher
{
    /// <summary>Response trailer of an Unavailable push that the gateway certainly did not store (see replay.proto).</summary>
    public const string NotStoredTrailer = "distsac-not-stored";

    private readonly ReplayGateway.ReplayGatewayClient _client;
    private readonly PolicySlot _policy;
    private readonly TimeSpan _callTimeout;
    private readonly ILogger _logger;
    private long _acknowledgedTransitions;
    private long _acknowledgedBatches;
    private long _duplicates;
    private long _unexpectedDuplicates;
    private long _retries;
    private long _notStored;
    private long _latestWeightsVersion = -1;

    public BatchPusher(ReplayGateway.ReplayGatewayClient client, PolicySlot policy, TimeSpan callTimeout, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(callTimeout, TimeSpan.Zero);
        _client = client;
        _policy = policy;
        _callTimeout = callTimeout;
        _logger = logger;
    }

    public long AcknowledgedTransitions => Interlocked.Read(ref _acknowledgedTransitions);

    public long AcknowledgedBatches => Interlocked.Read(ref _acknowledgedBatches);

    /// <summary>Acknowledgements that said the batch had been stored already (an earlier try got through).</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>
    /// Duplicate answers to a batch's first try: the gateway says it stored a batch this worker never sent before, so
    /// its transitions were not stored by this push (two processes sharing an incarnation, or a gateway bug). Each is
    /// logged as an error.
    /// </summary>
    public long UnexpectedDuplicates => Interlocked.Read(ref _unexpectedDuplicates);

    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Pushes that ended <see cref="PushDelivery.NotStored"/>: batches the sink re-bound to another lane.</summary>
    public long ReboundBatches => Interlocked.Read(ref _notStored);

    /// <summary>The newest actor version the gateway has mentioned; -1 before any.</summary>
    public long LatestWeightsVersion => Interlocked.Read(ref _latestWeightsVersion);

    /// <exception cref="WorkerFatalException">The gateway rejected the batch (InvalidArgument and the like).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> ended the tries.</exception>
    public async Task<PushDelivery> PushAsync(PushRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var backoff = new RetryBackoff();
        // Once a try may have stored the batch, the batch stays on this lane whatever later tries are answered.
        bool mayBeStored = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                PushResponse response = await _client.PushAsync(request, deadline: DateTime.UtcNow + _callTimeout, cancellationToken: cancellationToken);
                Acknowledge(request, response, backoff.Attempts);
                return PushDelivery.Acknowledged;
            }
            catch (RpcException e) when (request.HasShard && !mayBeStored && IsNotStored(e))
            {
                Interlocked.Increment(ref _notStored);
                _logger.LogWarning(
                    "Batch {Sequence} for shard {Shard} was not stored ({Detail}); sending it on another shard's lane",
                    request.Sequence, request.Shard, e.Status.Detail);
                return PushDelivery.NotStored;
            }
            catch (RpcException e) when (GrpcFailure.IsFatal(e.StatusCode))
            {
                throw new WorkerFatalException(
                    $"The gateway rejected batch {request.Sequence} of worker '{request.WorkerId}' ({request.TransitionCount} transitions) with {e.StatusCode}: {e.Status.Detail}",
                    e);
            }
            catch (RpcException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException($"Push of batch {request.Sequence} abandoned.", cancellationToken);
            }
            catch (RpcException e)
            {
                mayBeStored |= !IsNotStored(e);
                TimeSpan wait = backoff.Next();
                Interlocked.Increment(ref _retries);
                _logger.LogWarning(
                    "Push of batch {Sequence} (shard {Shard}) failed ({StatusCode}: {Detail}); try {Attempt} again in {WaitMs:F0} ms",
                    request.Sequence, request.HasShard ? (object)request.Shard : "sequence mod S", e.StatusCode, e.Status.Detail, backoff.Attempts + 1, wait.TotalMilliseconds);
                await Task.Delay(wait, cancellationToken);
            }
        }
    }

    /// <summary>Unavailable with the gateway's not-stored trailer: this try certainly stored nothing.</summary>
    private static bool IsNotStored(RpcException e) =>
        e.StatusCode == StatusCode.Unavailable && e.Trailers.GetValue(NotStoredTrailer) == "1";

    private void Acknowledge(PushRequest request, PushResponse response, int failedTries)
    {
        Interlocked.Add(ref _acknowledgedTransitions, request.TransitionCount);
        Interlocked.Increment(ref _acknowledgedBatches);
        if (response.Duplicate)
        {
            Interlocked.Increment(ref _duplicates);
            if (failedTries == 0)
            {
                Interlocked.Increment(ref _unexpectedDuplicates);
                _logger.LogError(
                    "The gateway answered duplicate for batch {Sequence} of worker '{WorkerId}' incarnation {Incarnation} on its first try: " +
                    "its {Transitions} transitions were not stored by this push. Is another process running with the same worker id and incarnation?",
                    request.Sequence, request.WorkerId, request.Incarnation, request.TransitionCount);
            }
        }

        _policy.ObserveTotalInserted(response.TotalInserted);
        long latest = Interlocked.Read(ref _latestWeightsVersion);
        if (response.LatestWeightsVersion > latest)
        {
            Interlocked.Exchange(ref _latestWeightsVersion, response.LatestWeightsVersion);
        }

        if (failedTries > 0)
        {
            _logger.LogInformation(
                "Batch {Sequence} acknowledged after {FailedTries} failed tries (duplicate: {Duplicate})",
                request.Sequence, failedTries, response.Duplicate);
        }
    }
}
