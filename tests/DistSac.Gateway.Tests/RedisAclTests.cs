using DistSac.Protocol.V1;
using DistSac.Replay;
using StackExchange.Redis;

namespace DistSac.Gateway.Tests;

/// <summary>
/// The per-role Redis ACL users of docs/security.md, created in a real Redis: a gateway and a learner connected as those
/// users run a push and a weights stream, and the gateway's user cannot write weights or reach another run.
/// </summary>
public sealed class RedisAclTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private const string GatewayPassword = "gateway-password-0123456789";
    private const string LearnerPassword = "learner-password-0123456789";

    /// <summary>The ACL lines of docs/security.md for run <paramref name="run"/> (kept identical by hand: edit both).</summary>
    internal static string[][] AclLines(string run) =>
    [
        ["ACL", "SETUSER", $"distsac-gateway-{run}", "reset", "on", ">" + GatewayPassword,
            $"%R~distsac:{run}:meta", $"%R~distsac:{run}:weights", $"%R~distsac:{run}:learner",
            $"~distsac:{run}:workers", $"~distsac:{run}:incarnations", $"~distsac:{run}:shard:*",
            $"&distsac:{run}:weights:channel", $"&distsac:{run}:learner:channel",
            "+@connection", "+info", "+evalsha", "+eval", "+script|load", "+get", "+exists",
            "+hget", "+hmget", "+hset", "+hincrby", "+hexists", "+hgetall", "+subscribe", "+unsubscribe",
            // A selector: the insert script announces each shard's total, and PUBLISH is allowed on those channels only.
            $"(+publish &distsac:{run}:shard:*:inserted:channel)"],
        ["ACL", "SETUSER", $"distsac-learner-{run}", "reset", "on", ">" + LearnerPassword,
            $"~distsac:{run}:*", $"&distsac:{run}:*",
            "+@connection", "+info", "+evalsha", "+eval", "+script|load", "+get", "+set", "+setnx", "+exists",
            "+hget", "+hmget", "+hset", "+hmset", "+hincrby", "+hexists", "+hgetall", "+hlen", "+publish", "+subscribe", "+unsubscribe"],
    ];

    [Fact]
    public async Task AGatewayAndALearner_AsTheirAclUsers_RunAPushAndAWeightsStream()
    {
        var run = "acl-" + Guid.NewGuid().ToString("N")[..10];
        await CreateUsersAsync(run);
        var learner = new ReplayOptions { RunId = run, Shards = [redis.Server.Endpoint], CapacityPerShard = 1000, User = $"distsac-learner-{run}", Password = LearnerPassword };
        await using var learnerReplay = await ShardedReplay.ConnectAsync(learner, null, CancellationToken.None);
        await learnerReplay.InitializeRunAsync(new ReplayMetadata(run, "Pendulum-v1", 3, 1, GatewayTestbed.RecordBytes, 7, 0, 1000, 1, 1), CancellationToken.None);
        await learnerReplay.PublishWeightsAsync(2, [1, 2, 3], CancellationToken.None);

        var gatewayReplay = learner with { User = $"distsac-gateway-{run}", Password = GatewayPassword };
        await using var gateway = await GatewayHost.StartAsync(new GatewayOptions { Listen = "http://127.0.0.1:0", StatusLogIntervalMs = 0 }, gatewayReplay);
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(gateway.Address);
        var client = new ReplayGateway.ReplayGatewayClient(channel);
        await client.GetRunInfoAsync(new GetRunInfoRequest { WorkerId = "worker-a" });
        var reply = await client.PushAsync(GatewayTestbed.Push("worker-a", 0, GatewayTestbed.Records(8)));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var call = client.WatchWeights(new WatchWeightsRequest { WorkerId = "worker-a", KnownVersion = -1 }, cancellationToken: cts.Token);
        Assert.True(await call.ResponseStream.MoveNext(cts.Token));

        Assert.Equal(8, reply.Stored);
        Assert.Equal(8, (await learnerReplay.ReadStatsAsync(CancellationToken.None)).TotalInserted);
        Assert.Equal(2, call.ResponseStream.Current.Version);
    }

    [Fact]
    public async Task TheGatewaysUser_CannotWriteWeightsOrMetadata_NorTouchAnotherRun()
    {
        var run = "acl-" + Guid.NewGuid().ToString("N")[..10];
        await CreateUsersAsync(run);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { redis.Server.Endpoint },
            User = $"distsac-gateway-{run}",
            Password = GatewayPassword,
        });
        var db = connection.GetDatabase();

        await Assert.ThrowsAsync<RedisServerException>(() => db.HashSetAsync($"distsac:{run}:weights", "version", "99"));
        await Assert.ThrowsAsync<RedisServerException>(() => db.StringSetAsync($"distsac:{run}:meta", "{}"));
        await Assert.ThrowsAsync<RedisServerException>(() => db.HashGetAsync("distsac:other-run:weights", "version"));
        await Assert.ThrowsAsync<RedisServerException>(() => db.PublishAsync(RedisChannel.Literal($"distsac:{run}:weights:channel"), "99"));
        await Assert.ThrowsAsync<RedisServerException>(() => db.PublishAsync(RedisChannel.Literal($"distsac:{run}:learner:channel"), "99 99 1"));
        await Assert.ThrowsAsync<RedisServerException>(() => db.ExecuteAsync("FLUSHALL"));
    }

    private async Task CreateUsersAsync(string run)
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { redis.Server.Endpoint }, Password = redis.Server.Password });
        foreach (var line in AclLines(run)) await admin.GetDatabase().ExecuteAsync(line[0], line[1..]);
    }
}
