using DistSac.Testing;

namespace DistSac.Replay.Tests;

public sealed class RunMetadataTests(TwoRedisServers redis) : IClassFixture<TwoRedisServers>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Initializing_twice_with_the_same_metadata_joins_the_run()
    {
        string run = TestRuns.NewRunId();
        await using var first = await TestRuns.OpenAsync(redis.Servers, run, capacity: 10);
        await using var second = await TestRuns.OpenAsync(redis.Servers, run, capacity: 10);

        Assert.Equal(TestRuns.Metadata(run, 10, 2), await second.ReadMetadataAsync(None));
        Assert.Equal(TestRuns.Metadata(run, 10, 2), second.Metadata);
    }

    [Fact]
    public async Task Different_metadata_for_an_existing_run_is_refused_naming_the_field()
    {
        string run = TestRuns.NewRunId();
        await using var replay = await TestRuns.OpenAsync(redis.OnlyFirst, run, capacity: 10);

        var other = TestRuns.Metadata(run, 10, 1) with { EnvId = "MountainCarContinuous-v0", Seed = 9 };
        var ex = await Assert.ThrowsAsync<ReplaySchemaMismatchException>(() => replay.InitializeRunAsync(other, None));

        Assert.Contains("EnvId: 'Pendulum-v1' in Redis vs 'MountainCarContinuous-v0' here", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Seed", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("RecordBytes", ex.Message, StringComparison.Ordinal);
        Assert.Equal("Pendulum-v1", (await replay.ReadMetadataAsync(None))!.EnvId);
    }

    [Fact]
    public async Task Joining_a_run_with_a_different_shard_count_is_refused()
    {
        string run = TestRuns.NewRunId();
        await using var twoShards = await TestRuns.OpenAsync(redis.Servers, run, capacity: 10);
        await using var oneShard = await TestRuns.OpenAsync(redis.OnlyFirst, run, capacity: 10, initialize: false);

        var ex = await Assert.ThrowsAsync<ReplaySchemaMismatchException>(() => oneShard.ReadMetadataAsync(None));
        Assert.Contains("ShardCount", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metadata_whose_record_size_does_not_match_its_dimensions_is_rejected()
    {
        string run = TestRuns.NewRunId();
        await using var replay = await TestRuns.OpenAsync(redis.OnlyFirst, run, capacity: 10, initialize: false);
        var bad = TestRuns.Metadata(run, 10, 1) with { RecordBytes = 36 };
        await Assert.ThrowsAsync<ArgumentException>(() => replay.InitializeRunAsync(bad, None));
        Assert.Null(await replay.ReadMetadataAsync(None));
    }

    [Fact]
    public async Task A_run_that_was_never_initialized_has_no_metadata()
    {
        await using var replay = await TestRuns.OpenAsync(redis.OnlyFirst, TestRuns.NewRunId(), capacity: 10, initialize: false);
        Assert.Null(await replay.ReadMetadataAsync(None));
        Assert.Null(replay.Metadata);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a:b")]
    [InlineData("run*")]
    [InlineData("with space")]
    public async Task Run_ids_that_could_collide_with_other_runs_keys_are_rejected(string runId)
    {
        var options = new ReplayOptions { RunId = runId, Shards = [redis.First.Endpoint] };
        await Assert.ThrowsAsync<ArgumentException>(() => ShardedReplay.ConnectAsync(options, null, None));
    }
}

public sealed class ConnectionTests
{
    [Fact]
    public async Task An_unreachable_shard_fails_with_a_message_naming_its_endpoint()
    {
        await using var alive = await RedisServer.StartAsync();
        string dead = $"127.0.0.1:{FreePort.Next()}";
        var options = new ReplayOptions { RunId = "r", Shards = [alive.Endpoint, dead], ConnectTimeoutMs = 500 };

        var ex = await Assert.ThrowsAsync<ReplayUnavailableException>(() => ShardedReplay.ConnectAsync(options, null, CancellationToken.None));

        Assert.Contains(dead, ex.Message, StringComparison.Ordinal);
        Assert.Contains("shard 1", ex.Message, StringComparison.Ordinal);
        Assert.Equal(dead, ex.Endpoint);
        Assert.Equal(1, ex.Shard);
    }

    [Fact]
    public async Task A_password_protected_shard_is_reachable_with_the_password()
    {
        await using var server = await RedisServer.StartAsync(password: "pw");
        var options = new ReplayOptions { RunId = TestRuns.NewRunId(), Shards = [server.Endpoint], CapacityPerShard = 10, Password = "pw" };
        await using var replay = await ShardedReplay.ConnectAsync(options, null, CancellationToken.None);
        await replay.InitializeRunAsync(TestRuns.Metadata(options.RunId, 10, 1), CancellationToken.None);
        Assert.Equal(1, (await replay.InsertAsync("w", 0, TestRuns.Records(1, 0), 1, CancellationToken.None)).Stored);
    }

    [Fact]
    public async Task A_password_protected_shard_refuses_a_client_without_the_password_naming_the_endpoint()
    {
        await using var server = await RedisServer.StartAsync(password: "pw");
        var options = new ReplayOptions { RunId = "r", Shards = [server.Endpoint], ConnectTimeoutMs = 1000 };
        var ex = await Assert.ThrowsAsync<ReplayUnavailableException>(() => ShardedReplay.ConnectAsync(options, null, CancellationToken.None));
        Assert.Contains(server.Endpoint, ex.Message, StringComparison.Ordinal);
    }
}

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
