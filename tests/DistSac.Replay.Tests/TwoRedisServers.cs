using DistSac.Testing;

namespace DistSac.Replay.Tests;

/// <summary>Two real redis-servers per test class; tests use fresh run ids, so they never see each other's data.</summary>
public sealed class TwoRedisServers : IAsyncLifetime
{
    public RedisServer[] Servers { get; private set; } = [];
    public RedisServer First => Servers[0];
    public IReadOnlyList<RedisServer> OnlyFirst => [Servers[0]];

    public async Task InitializeAsync()
    {
        var a = RedisServer.StartAsync();
        var b = RedisServer.StartAsync();
        Servers = [await a, await b];
    }

    public async Task DisposeAsync()
    {
        foreach (var s in Servers) await s.DisposeAsync();
    }
}
