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
        var error = await Assert.ThrowsAsync<System.ComponentModel.DataAnnotations.ValidationException>(() => ShardedReplay.ConnectAsync(options, null, None));
        Assert.StartsWith("Replay:RunId = ", error.Message, StringComparison.Ordinal);
    }
}
