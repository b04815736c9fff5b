using DistSac.Testing;

namespace DistSac.Replay.Tests;

public sealed class ShardCrashTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_killed_shard_makes_its_operations_fail_naming_it_while_the_other_shard_keeps_working()
    {
        await using var a = await RedisServer.StartAsync();
        await using var b = await RedisServer.StartAsync();
        string run = TestRuns.NewRunId();
        await using var replay = await TestRuns.OpenAsync([a, b], run, capacity: 100);
        await replay.InsertAsync("w", 0, TestRuns.Records(5, 0), 5, None);
        await replay.InsertAsync("w", 1, TestRuns.Records(5, 100), 5, None);

        await b.KillAsync();

        var insert = await Assert.ThrowsAsync<ReplayUnavailableException>(() => replay.InsertAsync("w", 3, TestRuns.Records(1, 9), 1, None));
        Assert.Equal(b.Endpoint, insert.Endpoint);
        Assert.Contains(b.Endpoint, insert.Message, StringComparison.Ordinal);
        var sample = await Assert.ThrowsAsync<ReplayUnavailableException>(() => replay.SampleAsync(8, new Random(1), new byte[320], None));
        Assert.Equal(1, sample.Shard);
        Assert.Equal(1, (await replay.InsertAsync("w", 2, TestRuns.Records(1, 5), 1, None)).Stored);
    }
}
