using DistSac.Protocol;
using Grpc.Core;
using Grpc.Net.Client;

namespace DistSac.Worker;

/// <summary>
/// Adds the bearer token to every call of a channel as call credentials. grpc-dotnet sends call credentials only over
/// TLS unless told otherwise; over TLS they are real call credentials, and for a gateway that speaks h2c (loopback, or a
/// trusted cluster network) the insecure case is allowed explicitly. The metadata is built per call, so a rotated token file is picked up without a new channel.
/// </summary>
public static class GatewayCredentials
{
    /// <param name="tls">True when the channel speaks TLS (https://, or dns:/// with a CA file).</param>
    public static void Attach(GrpcChannelOptions options, bool tls, BearerToken token)
    {
        var perCall = CallCredentials.FromInterceptor((_, metadata) =>
        {
            metadata.Add(BearerToken.MetadataKey, token.AuthorizationValue());
            return Task.CompletedTask;
        });
        options.Credentials = ChannelCredentials.Create(tls ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure, perCall);
        options.UnsafeUseInsecureChannelCallCredentials = !tls;
    }
}
