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

    [Fact]
    public async Task An_insert_into_a_shard_known_to_be_disconnected_says_it_sent_nothing_and_the_lane_has_no_gap_after_the_restart()
    {
        await using var a = await RedisServer.StartAsync();
        string aof = Directory.CreateTempSubdirectory("distsac-notsent-").FullName;
        try
        {
            var b = await RedisServer.StartAsync(appendOnlyDirectory: aof);
            string run = TestRuns.NewRunId();
            await using var replay = await TestRuns.OpenAsync([a, b], run, capacity: 100);
            await replay.InsertIntoShardAsync("w", 1, shard: 1, sequence: 0, TestRuns.Records(2, 0), 2, None);

            int port = b.Port;
            await b.DisposeAsync(); // SIGKILL; the AOF folder stays
            ReplayUnavailableException refused;
            var deadline = DateTime.UtcNow.AddSeconds(15);
            // The multiplexer learns of the closed socket within moments; an insert sent before that fails unmarked.
            while (true)
            {
                refused = await Assert.ThrowsAsync<ReplayUnavailableException>(() =>
                    replay.InsertIntoShardAsync("w", 1, shard: 1, sequence: 1, TestRuns.Records(2, 1), 2, None));
                if (refused.NotSent || DateTime.UtcNow > deadline) break;
                await Task.Delay(50);
            }
            var healthy = await replay.InsertIntoShardAsync("w", 1, shard: 0, sequence: 0, TestRuns.Records(2, 2), 2, None);
            await using var back = await RedisServer.StartAsync(port: port, appendOnlyDirectory: aof);
            InsertResult again = default;
            deadline = DateTime.UtcNow.AddSeconds(15);
            while (true)
            {
                try
                {
                    again = await replay.InsertIntoShardAsync("w", 1, shard: 1, sequence: 1, TestRuns.Records(2, 1), 2, None);
                    break;
                }
                catch (ReplayUnavailableException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50);
                }
            }

            Assert.True(refused.NotSent, refused.Message);
            Assert.Equal(1, refused.Shard);
            Assert.Contains("nothing was sent", refused.Message, StringComparison.Ordinal);
            Assert.Equal((2, false), (healthy.Stored, healthy.Duplicate));
            Assert.Equal((2, false), (again.Stored, again.Duplicate)); // sequence 1 was never stored: no duplicate, no gap
        }
        finally
        {
            Directory.Delete(aof, recursive: true);
        }
    }
}
