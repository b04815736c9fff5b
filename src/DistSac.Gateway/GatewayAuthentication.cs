using DistSac.Protocol;

namespace DistSac.Gateway;

/// <summary>
/// Decides from <see cref="GatewayOptions"/> whether the gateway checks a bearer token: always when one is configured;
/// and a gateway reachable from other machines (non-loopback Listen) must have one, or start only with the explicit
/// opt-out AllowUnauthenticated, because anyone who can reach the port could otherwise push into the replay and take
/// the policy's weights.
/// </summary>
public static class GatewayAuthentication
{
    /// <summary>The token to enforce, or null for an open gateway. Throws <see cref="ArgumentException"/> (exit 2) for an unsafe setup.</summary>
    public static BearerToken? Resolve(GatewayOptions gateway, ListenAddress listen)
    {
        var token = BearerToken.Resolve(gateway.Token, gateway.TokenFile, GatewayOptions.Section);
        if (token is not null || listen.IsLoopback || gateway.AllowUnauthenticated) return token;
        throw new ArgumentException(
            $"Gateway:Listen '{gateway.Listen}' is reachable from other machines but no token is set: anyone who reaches it could " +
            "push transitions and read the policy. Set Gateway:TokenFile (a file holding the shared token) or DISTSAC_GATEWAY__TOKEN, " +
            "listen on 127.0.0.1, or accept the risk with Gateway:AllowUnauthenticated=true.");
    }
}
