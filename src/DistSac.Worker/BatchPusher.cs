using DistSac.Protocol.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace DistSac.Worker;

/// <summary>
/// Delivers one PushRequest, retrying the very same request object (same sequence, same bytes) with back-off on
/// any transient failure until it is acknowledged or the token ends it. Because the gateway de-duplicates by
/// (worker id, incarnation, sequence), a batch whose acknowledgement was lost is stored exactly once.
/// </summary>
public sealed class BatchPusher
{
    private readonly ReplayGateway.ReplayGatewayClient _client;
    private readonly PolicySlot _policy;
    private readonly TimeSpan _callTimeout;
    private readonly ILogger _logger;
    private long _acknowledgedTransitions;
    private long _acknowledgedBatches;
    private long _duplicates;
    private long _unexpectedDuplicates;
    private long _retries;
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

    /// <summary>The newest actor version the gateway has mentioned; -1 before any.</summary>
    public long LatestWeightsVersion => Interlocked.Read(ref _latestWeightsVersion);

    /// <exception cref="WorkerFatalException">The gateway rejected the batch (InvalidArgument and the like).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> ended the tries.</exception>
    public async Task PushAsync(PushRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var backoff = new RetryBackoff();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                PushResponse response = await _client.PushAsync(request, deadline: DateTime.UtcNow + _callTimeout, cancellationToken: cancellationToken);
                Acknowledge(request, response, backoff.Attempts);
                return;
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
                TimeSpan wait = backoff.Next();
                Interlocked.Increment(ref _retries);
                _logger.LogWarning(
                    "Push of batch {Sequence} failed ({StatusCode}: {Detail}); try {Attempt} again in {WaitMs:F0} ms",
                    request.Sequence, e.StatusCode, e.Status.Detail, backoff.Attempts + 1, wait.TotalMilliseconds);
                await Task.Delay(wait, cancellationToken);
            }
        }
    }

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
