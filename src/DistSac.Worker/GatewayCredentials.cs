using DistSac.Protocol;
using Grpc.Core;
using Grpc.Net.Client;

namespace DistSac.Worker;

/// <summary>
/// Adds the bearer token to every call of a channel as call credentials. grpc-dotnet sends call credentials only over
/// TLS unless told otherwise; the gateway speaks h2c inside the cluster or on loopback, so the insecure case is allowed
/// explicitly. The metadata is built per call, so a rotated token file is picked up without a new channel.
/// </summary>
public static class GatewayCredentials
{
    public static void Attach(GrpcChannelOptions options, string address, BearerToken token)
    {
        var perCall = CallCredentials.FromInterceptor((_, metadata) =>
        {
            metadata.Add(BearerToken.MetadataKey, token.AuthorizationValue());
            return Task.CompletedTask;
        });
        bool tls = address.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        options.Credentials = ChannelCredentials.Create(tls ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure, perCall);
        options.UnsafeUseInsecureChannelCallCredentials = !tls;
    }
}
