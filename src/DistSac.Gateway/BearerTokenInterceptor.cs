using DistSac.Protocol;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace DistSac.Gateway;

/// <summary>
/// Refuses every ReplayGateway call (Push, GetRunInfo, WatchWeights) whose "authorization" metadata is not
/// "Bearer &lt;token&gt;" with Unauthenticated, before the service sees the request: nothing is stored, registered or
/// streamed. The gRPC health service is not behind it (Kubernetes probes carry no token). Refusals are logged without
/// the presented value, at most one line per <see cref="LogInterval"/> so a scan cannot flood the log.
/// </summary>
public sealed class BearerTokenInterceptor(BearerToken token, ILogger<BearerTokenInterceptor> logger) : Interceptor
{
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);
    private const string Refusal = "missing or wrong bearer token: send 'authorization: Bearer <token>' with the gateway's token " +
                                   "(workers: Worker:TokenFile or DISTSAC_WORKER__TOKEN).";
    private long _refused;
    private long _nextLogTicks;

    /// <summary>Calls refused so far.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(requestStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Authenticate(ServerCallContext context)
    {
        var presented = context.RequestHeaders.GetValue(BearerToken.MetadataKey);
        if (token.Accepts(presented)) return;
        long refused = Interlocked.Increment(ref _refused);
        long now = Environment.TickCount64, next = Interlocked.Read(ref _nextLogTicks);
        if (now >= next && Interlocked.CompareExchange(ref _nextLogTicks, now + (long)LogInterval.TotalMilliseconds, next) == next)
        {
            logger.LogWarning("Refused {Method} from {Peer}: {Reason} ({Refused} refused so far)",
                context.Method, context.Peer, presented is null ? "no authorization metadata" : "wrong token", refused);
        }
        throw new RpcException(new Status(StatusCode.Unauthenticated, Refusal));
    }
}
