using System.Globalization;
using StackExchange.Redis;

namespace DistSac.Testing;

/// <summary>
/// How often a Redis server ran a command (INFO commandstats), for tests that count round trips: a difference of two
/// readings is the number of calls in between.
/// </summary>
public static class RedisCommandStats
{
    /// <summary>The server's call count of <paramref name="command"/> (lower case, e.g. "hmget"); 0 before its first call.</summary>
    public static async Task<long> CallsAsync(string endpoint, string command)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(endpoint + ",allowAdmin=true").ConfigureAwait(false);
        return await CallsAsync(connection.GetServer(endpoint), command).ConfigureAwait(false);
    }

    /// <inheritdoc cref="CallsAsync(string, string)"/>
    public static async Task<long> CallsAsync(IServer server, string command)
    {
        ArgumentNullException.ThrowIfNull(server);
        foreach (var group in await server.InfoAsync("commandstats").ConfigureAwait(false))
        {
            foreach (var entry in group)
            {
                if (entry.Key != "cmdstat_" + command) continue;
                var calls = entry.Value.Split(',')[0]; // "calls=123"
                return long.Parse(calls["calls=".Length..], CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }
}
