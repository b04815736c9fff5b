using DistSac.Replay;
using StackExchange.Redis;

namespace DistSac.Gateway;

/// <summary>Which exceptions mean "Redis is not reachable right now" (answer Unavailable; clients retry) rather than a bug.</summary>
internal static class RedisFailure
{
    private static readonly string[] TransientServerErrors = ["LOADING", "BUSY", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"];

    public static bool IsTransient(Exception e)
    {
        // ShardedReplay wraps connection loss and timeouts in ReplayUnavailableException; the raw types can still escape
        // from calls that do not go through its guard.
        if (e is ReplayUnavailableException or RedisConnectionException or RedisTimeoutException or TimeoutException) return true;
        if (e is RedisServerException server)
        {
            foreach (var prefix in TransientServerErrors)
            {
                if (server.Message.StartsWith(prefix, StringComparison.Ordinal)) return true;
            }
        }
        if (e is AggregateException { InnerExceptions.Count: > 0 } aggregate)
        {
            foreach (var inner in aggregate.InnerExceptions)
            {
                if (!IsTransient(inner)) return false;
            }
            return true;
        }
        return false;
    }
}
