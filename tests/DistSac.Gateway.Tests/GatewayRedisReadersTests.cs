using DistSac.Replay;
using Microsoft.Extensions.DependencyInjection;

namespace DistSac.Gateway.Tests;

/// <summary>The gateway's Redis replies are read by the .NET thread pool (one thread wake-up less per command than dedicated readers).</summary>
public sealed class GatewayRedisReadersTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task The_gateway_reads_its_shards_replies_on_the_thread_pool_and_stores_pushes()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        await bed.RegisterAsync("worker-a");

        var ack = await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(4)));

        Assert.Equal(ShardReaderThreads.ThreadPool, bed.Gateway.Services.GetRequiredService<ShardedReplay>().ReaderThreads);
        Assert.Equal(4, ack.Stored);
        Assert.Equal(4, await bed.StoredAsync());
    }
}
