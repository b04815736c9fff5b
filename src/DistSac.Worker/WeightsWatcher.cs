using DistSac.Policy;
using DistSac.Protocol.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace DistSac.Worker;

/// <summary>
/// Follows the gateway's WatchWeights stream and publishes each newer actor to the rollout loop. The network is
/// built here (transposing 256x256 weights takes a while), not on the rollout thread. A corrupt or mismatched
/// update is logged and skipped, so the loop keeps acting with the actor it has. A broken stream is reopened
/// with back-off, asking only for versions newer than the one held.
/// </summary>
public sealed class WeightsWatcher
{
    private readonly ReplayGateway.ReplayGatewayClient _client;
    private readonly string _workerId;
    private readonly PolicySlot _policy;
    private readonly int _observationSize;
    private readonly int _actionSize;
    private readonly int _maxBatch;
    private readonly ILogger _logger;
    private long _knownVersion = -1;
    private long _rejectedUpdates;

    public WeightsWatcher(ReplayGateway.ReplayGatewayClient client, string workerId, PolicySlot policy, int observationSize, int actionSize, int maxBatch, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(logger);
        _client = client;
        _workerId = workerId;
        _policy = policy;
        _observationSize = observationSize;
        _actionSize = actionSize;
        _maxBatch = maxBatch;
        _logger = logger;
    }

    /// <summary>The version of the actor published last; -1 before any.</summary>
    public long KnownVersion => Interlocked.Read(ref _knownVersion);

    /// <summary>Updates skipped because they could not be parsed or did not fit the run.</summary>
    public long RejectedUpdates => Interlocked.Read(ref _rejectedUpdates);

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled; never throws for gateway trouble.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = new RetryBackoff();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var call = _client.WatchWeights(new WatchWeightsRequest { WorkerId = _workerId, KnownVersion = KnownVersion }, cancellationToken: cancellationToken);
                while (await call.ResponseStream.MoveNext(cancellationToken))
                {
                    backoff.Reset();
                    Apply(call.ResponseStream.Current);
                }

                _logger.LogInformation("The gateway closed the weights stream; reopening");
            }
            catch (Exception e) when (cancellationToken.IsCancellationRequested && e is OperationCanceledException or RpcException)
            {
                return;
            }
            catch (RpcException e)
            {
                _logger.LogWarning("Weights stream failed ({StatusCode}: {Detail}); reopening (try {Attempt})", e.StatusCode, e.Status.Detail, backoff.Attempts + 1);
            }

            try
            {
                await Task.Delay(backoff.Next(), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Parses, checks and publishes one update; returns whether the loop got a new actor.</summary>
    internal bool Apply(WeightsUpdate update)
    {
        if (update.Version <= KnownVersion)
        {
            _logger.LogDebug("Skipping weights version {Version}: version {Known} is already in use", update.Version, KnownVersion);
            return false;
        }

        ActorWeights weights;
        try
        {
            weights = ActorWeights.FromBytes(update.Actor.Span);
        }
        catch (InvalidDataException e)
        {
            Interlocked.Increment(ref _rejectedUpdates);
            _logger.LogError("Ignoring weights version {Version} ({Bytes} bytes): {Reason}; keeping version {Known}", update.Version, update.Actor.Length, e.Message, KnownVersion);
            return false;
        }

        if (weights.ObservationSize != _observationSize || weights.ActionSize != _actionSize)
        {
            Interlocked.Increment(ref _rejectedUpdates);
            _logger.LogError(
                "Ignoring weights version {Version}: the actor maps {ActorObs} observations to {ActorAct} actions but this run has {RunObs} and {RunAct}; keeping version {Known}",
                update.Version, weights.ObservationSize, weights.ActionSize, _observationSize, _actionSize, KnownVersion);
            return false;
        }

        // The stream's version is the one the gateway and learner count by; the file's own field may lag it.
        var network = new ActorNetwork(weights.WithVersion(update.Version), _maxBatch);
        bool first = KnownVersion < 0;
        _policy.Publish(network);
        Interlocked.Exchange(ref _knownVersion, update.Version);
        // The learner publishes every few updates; the progress line carries the version, so only the first is news.
        _logger.Log(first ? LogLevel.Information : LogLevel.Debug, "Received actor weights version {Version}", update.Version);
        return true;
    }
}
