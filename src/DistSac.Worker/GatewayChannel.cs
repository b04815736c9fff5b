using System.Net.Http;
using DistSac.Protocol;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DistSac.Worker;

/// <summary>The worker's one HTTP/2 connection to the gateway, with message limits set from the protocol, never defaults.</summary>
public static class GatewayChannel
{
    /// <param name="token">Sent as "authorization: Bearer ..." with every call; null sends none (a loopback gateway without a token).</param>
    /// <param name="tls">How the gateway is verified and which client certificate is shown; null for cleartext (http://).</param>
    public static GrpcChannel Create(string address, BearerToken? token = null, GatewayClientTls? tls = null)
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
        var options = new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxSendMessageSize = ProtocolLimits.MaxMessageBytes,
            MaxReceiveMessageSize = ProtocolLimits.MaxMessageBytes,
        };
        if (address.StartsWith("dns:", StringComparison.OrdinalIgnoreCase))
        {
            // Client-side balancing over every address behind a headless Service (one pod per A record): a plain
            // ClusterIP pins the worker's one HTTP/2 connection to one gateway. DNS is re-resolved every 30 s so
            // gateways added later get traffic too. dns: addresses carry no scheme, so h2c is stated explicitly.
            options.Credentials = ChannelCredentials.Insecure;
            options.ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } };
            var services = new ServiceCollection();
            services.AddSingleton<ResolverFactory>(new DnsResolverFactory(refreshInterval: TimeSpan.FromSeconds(30)));
            options.ServiceProvider = services.BuildServiceProvider();
        }
        if (tls is not null)
        {
            tls.Apply(handler);
            if (!address.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) options.Credentials = ChannelCredentials.SecureSsl;
        }
        if (token is not null) GatewayCredentials.Attach(options, tls is not null, token);
        return GrpcChannel.ForAddress(address, options);
    }
}
