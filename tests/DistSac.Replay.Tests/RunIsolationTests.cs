using StackExchange.Redis;

namespace DistSac.Replay.Tests;

public sealed class RunIsolationTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Two_runs_sharing_one_redis_never_touch_each_others_keys()
    {
        await using var server = await DistSac.Testing.RedisServer.StartAsync();
        // "a" is a prefix of "a-b" as a string; the ':' after the run id keeps their keys apart.
        await using var a = await TestRuns.OpenAsync([server], "a", capacity: 10);
        await using var b = await TestRuns.OpenAsync([server], "a-b", capacity: 10);
        await ExerciseAsync(a, firstId: 0);
        var bBefore = await b.ReadStatsAsync(None);
        await ExerciseAsync(b, firstId: 500);

        await using var mux = await ConnectionMultiplexer.ConnectAsync(server.Endpoint);
        var redis = mux.GetServer(mux.GetEndPoints()[0]);
        var all = new List<string>();
        await foreach (var key in redis.KeysAsync(pattern: "*")) all.Add(key!);
        var ofA = new List<string>();
        await foreach (var key in redis.KeysAsync(pattern: RunKeys.Pattern("a"))) ofA.Add(key!);
        var ofB = new List<string>();
        await foreach (var key in redis.KeysAsync(pattern: RunKeys.Pattern("a-b"))) ofB.Add(key!);

        Assert.Equal(all.Count, ofA.Count + ofB.Count);
        Assert.Empty(ofA.Intersect(ofB));
        string[] expected = ["meta", "weights", "learner", "workers", "incarnations", "shard:0:data", "shard:0:state", "shard:0:seq", "shard:0:workers"];
        Assert.Equal(expected.Select(k => "distsac:a:" + k).Order(), ofA.Order());
        Assert.Equal(expected.Select(k => "distsac:a-b:" + k).Order(), ofB.Order());

        Assert.Equal(0, bBefore.TotalInserted);
        Assert.Equal(5, (await a.ReadStatsAsync(None)).TotalInserted);
        Assert.Equal(5, (await b.ReadStatsAsync(None)).TotalInserted);
        Assert.Equal(1, (await a.ReadLatestWeightsAsync(None))!.Value.Version);
        Assert.Equal(501, (await b.ReadLatestWeightsAsync(None))!.Value.Version);
        Assert.False(await a.IsWorkerKnownAsync("w500", None));

        var buffer = new byte[64 * TestRuns.RecordBytes];
        await a.SampleAsync(64, new Random(1), buffer, None);
        for (int i = 0; i < 64; i++) Assert.InRange(TestRuns.Id(TestRuns.RecordAt(buffer, i)), 0, 4);
    }

    private static async Task ExerciseAsync(ShardedReplay replay, int firstId)
    {
        // The same worker id and sequence in both runs: dedup state must be per run too.
        await replay.InsertAsync("w", 0, TestRuns.Records(5, firstId), 5, None);
        await replay.RegisterWorkerAsync($"w{firstId}", None);
        await replay.PublishWeightsAsync(firstId + 1, [1, 2, 3], None);
        await replay.PublishLearnerProgressAsync(firstId + 7, firstId + 1, None);
    }
}
