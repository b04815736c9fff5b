using DistSac.Protocol;
using DistSac.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DistSac.Gateway;

/// <summary>
/// The gRPC face of the gateway: translates messages and outcomes to status codes and delegates everything else to
/// <see cref="PushHandler"/>, <see cref="RunInfoProvider"/> and <see cref="WeightsFanOut"/>. Calls end promptly when
/// the gateway stops (held pushes answer Unavailable, weight streams complete) so a rolling restart is quick.
/// Bound through <see cref="ReplayGatewayBinding"/>, so a request body that is not valid protobuf reaches the handler
/// flagged (<see cref="IParsedRequest.ParseError"/>) and is answered InvalidArgument, logged at most once per client per interval.
/// </summary>
[BindServiceMethod(typeof(ReplayGatewayBinding), nameof(ReplayGatewayBinding.BindService))]
public sealed class ReplayGatewayService(
    PushHandler pushes, RunInfoProvider runs, WeightsFanOut weights, WeightsFollower follower, GatewayCounters counters,
    MalformedRequestLog malformed, IHostApplicationLifetime lifetime, ILogger<ReplayGatewayService> logger)
    : ReplayGateway.ReplayGatewayBase
{
    /// <summary>The response trailer that says an Unavailable push was certainly not stored (see replay.proto's Push).</summary>
    public const string NotStoredTrailerKey = "distsac-not-stored";

    private static Metadata NotStoredTrailer() => new() { { NotStoredTrailerKey, "1" } };

    private const string ShuttingDown = "gateway is shutting down; retry on another gateway (a batch is stored at most once).";

    /// <summary>InvalidArgument for a body that did not parse; the message is short and carries no stack trace.</summary>
    private RpcException Malformed(IParsedRequest request, string method, ServerCallContext context)
    {
        var address = context.GetHttpContext().Connection.RemoteIpAddress;
        malformed.Report(address?.ToString() ?? context.Peer, method, request.ParseError!);
        return new RpcException(new Status(StatusCode.InvalidArgument,
            $"the request body is not a valid distsac.v1.{method} protobuf message: {request.ParseError}"));
    }

    public override async Task<RunInfo> GetRunInfo(GetRunInfoRequest request, ServerCallContext context)
    {
        if (request.ParseError is not null) throw Malformed(request, nameof(GetRunInfoRequest), context);
        if (PushValidator.ValidateWorkerId(request.WorkerId) is { } bad)
            throw new RpcException(new Status(StatusCode.InvalidArgument, bad));
        try
        {
            var (lookup, run) = await runs.DescribeForWorkerAsync(request.WorkerId, context.CancellationToken).ConfigureAwait(false);
            if (run is null)
                throw new RpcException(new Status(StatusCode.FailedPrecondition, lookup.Error!));
            var m = run.Metadata;
            return new RunInfo
            {
                RunId = m.RunId,
                EnvId = m.EnvId,
                ObservationSize = m.ObservationSize,
                ActionSize = m.ActionSize,
                Seed = m.Seed,
                WarmupTransitions = m.WarmupTransitions,
                RecordBytes = m.RecordBytes,
                MaxBatchTransitions = PushValidator.MaxTransitions(lookup.Schema),
                TotalInserted = run.TotalInserted,
                ProtocolVersion = ProtocolLimits.ProtocolVersion,
                Incarnation = run.Incarnation,
                ShardCount = m.ShardCount,
            };
        }
        catch (Exception e) when (RedisFailure.IsTransient(e))
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"replay storage (Redis) is unavailable: {e.Message}. Retry."));
        }
    }

    public override async Task<PushResponse> Push(PushRequest request, ServerCallContext context)
    {
        if (request.ParseError is not null)
        {
            counters.Reject();
            throw Malformed(request, nameof(PushRequest), context);
        }
        using var call = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        PushOutcome outcome;
        try
        {
            // The records stay in the request's buffer: validated and sent to Redis without a copy.
            outcome = await pushes.PushAsync(request.WorkerId, request.Incarnation, request.Sequence, request.TransitionCount, request.Records.Memory, call.Token,
                    request.HasShard ? request.Shard : null)
                .ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            counters.Unreachable();
            throw new RpcException(new Status(StatusCode.Unavailable, ShuttingDown));
        }
        return outcome.Status switch
        {
            PushStatus.Stored or PushStatus.Duplicate => new PushResponse
            {
                Stored = outcome.Stored,
                Duplicate = outcome.Status == PushStatus.Duplicate,
                TotalInserted = outcome.TotalInserted,
                LatestWeightsVersion = outcome.LatestWeightsVersion,
            },
            PushStatus.Invalid => throw new RpcException(new Status(StatusCode.InvalidArgument, outcome.Error!)),
            PushStatus.OutOfOrder => throw new RpcException(new Status(StatusCode.OutOfRange, outcome.Error!)),
            PushStatus.RunNotReady => throw new RpcException(new Status(StatusCode.FailedPrecondition, outcome.Error!)),
            PushStatus.RateLimited => throw new RpcException(new Status(StatusCode.ResourceExhausted, outcome.Error!)),
            PushStatus.Unavailable => throw new RpcException(new Status(StatusCode.Unavailable, outcome.Error!)),
            PushStatus.NotStored => throw new RpcException(new Status(StatusCode.Unavailable, outcome.Error!), NotStoredTrailer()),
            _ => throw new RpcException(new Status(StatusCode.Internal, $"unhandled push status {outcome.Status}")),
        };
    }

    public override async Task WatchWeights(WatchWeightsRequest request, IServerStreamWriter<WeightsUpdate> responseStream, ServerCallContext context)
    {
        if (request.ParseError is not null) throw Malformed(request, nameof(WatchWeightsRequest), context);
        if (PushValidator.ValidateWorkerId(request.WorkerId) is { } bad)
            throw new RpcException(new Status(StatusCode.InvalidArgument, bad));
        using var call = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            await follower.CatchUpAsync(call.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailure.IsTransient(e))
        {
            // Serve what this gateway has; the follower delivers newer weights once Redis answers again.
            logger.LogDebug("WatchWeights for {Worker}: could not re-read the latest weights ({Error})", request.WorkerId, e.Message);
        }
        catch (OperationCanceledException) when (call.IsCancellationRequested)
        {
            return;
        }
        using var subscription = weights.Subscribe();
        counters.StreamOpened();
        try
        {
            long sent = request.KnownVersion;
            while (true)
            {
                var next = await subscription.NextAsync(call.Token).ConfigureAwait(false);
                if (next.Version <= sent) continue;
                // Every stream shares the one byte[] of this version; wrapping it copies nothing.
                var update = new WeightsUpdate { Version = next.Version, Actor = UnsafeByteOperations.UnsafeWrap(next.Actor) };
                await responseStream.WriteAsync(update, call.Token).ConfigureAwait(false);
                sent = next.Version;
                counters.WeightsSentOnce();
            }
        }
        catch (OperationCanceledException) when (call.IsCancellationRequested)
        {
            // The worker hung up or the gateway is stopping: end the stream with OK; the worker reconnects if it wants more.
        }
        catch (IOException) when (context.CancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            counters.StreamClosed();
        }
    }
}
