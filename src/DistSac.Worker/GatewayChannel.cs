using System.Net.Http;
using DistSac.Protocol;
using Grpc.Net.Client;

namespace DistSac.Worker;

/// <summary>The worker's one HTTP/2 connection to the gateway, with message limits set from the protocol, never defaults.</summary>
public static class GatewayChannel
{
    public static GrpcChannel Create(string address)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        var handler = new SocketsHttpHandler
        {
            // A gateway that vanished without closing the connection (node lost) is noticed by pings, not by the
            // next push's deadline, which may be long because acknowledgements are held back on purpose.
            KeepAlivePingDelay = TimeSpan.FromSeconds(15),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            EnableMultipleHttp2Connections = true,
        };
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxSendMessageSize = ProtocolLimits.MaxMessageBytes,
            MaxReceiveMessageSize = ProtocolLimits.MaxMessageBytes,
        });
    }
}
