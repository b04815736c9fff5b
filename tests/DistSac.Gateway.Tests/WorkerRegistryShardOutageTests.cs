using DistSac.Replay;
using DistSac.Testing;
using StackExchange.Redis;

namespace DistSac.Gateway.Tests;

/// <summary>
/// An incarnation issued by shard 1 while shard 0 was down is known to shard 1 alone (registrations are not copied to a
/// shard later). A gateway that never saw it must accept it while shard 1 is down (it cannot show it was never issued),
/// and refuse an incarnation above every one issued once every shard answers.
/// </summary>
public sealed class WorkerRegistryShardOutageTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task An_incarnation_only_a_down_shard_knows_is_accepted_and_one_no_shard_issued_is_refused_when_all_answer()
    {
        await using var shard0 = await RedisServer.StartAsync();
        var shard1 = await RedisServer.StartAsync();
        try
        {
            var options = new ReplayOptions { RunId = "reg-" + Guid.NewGuid().ToString("N")[..12], Shards = [shard0.Endpoint, shard1.Endpoint], CapacityPerShard = 100 };
            await using var replay = await ShardedReplay.ConnectAsync(options, logger: null, None);
            long issuedByShard1 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() | 1;
            await using (var direct = await ConnectionMultiplexer.ConnectAsync(shard1.Endpoint))
            {
                await direct.GetDatabase().HashSetAsync(RunKeys.Incarnations(options.RunId), "w", issuedByShard1);
                await direct.GetDatabase().HashSetAsync(RunKeys.Workers(options.RunId), "w", issuedByShard1);
            }

            var allUp = new WorkerRegistry(replay);
            Assert.Null(await allUp.CheckAsync("w", issuedByShard1, None));
            Assert.Contains("was never issued", await allUp.CheckAsync("w", issuedByShard1 + 2, None));

            await shard1.KillAsync();
            var shard1Down = new WorkerRegistry(replay); // a gateway that has not seen the worker
            Assert.Null(await shard1Down.CheckAsync("w", issuedByShard1, None));
        }
        finally
        {
            await shard1.DisposeAsync();
        }
    }
}
