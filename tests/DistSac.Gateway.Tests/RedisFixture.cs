using DistSac.Testing;

namespace DistSac.Gateway.Tests;

/// <summary>One real redis-server per test class; tests keep apart by using their own run id.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
