namespace DistSac.Replay.Tests;

public sealed class WeightsAndProgressTests(TwoRedisServers redis) : IClassFixture<TwoRedisServers>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Published_weights_are_read_back_and_announced_to_subscribers()
    {
        await using var replay = await TestRuns.OpenAsync(redis.Servers, TestRuns.NewRunId(), capacity: 10);
        Assert.Null(await replay.ReadLatestWeightsAsync(None));
        var announced = new List<long>();
        var third = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscription = await replay.SubscribeWeightsAsync(v =>
        {
            lock (announced)
            {
                announced.Add(v);
                if (announced.Count == 3) third.TrySetResult();
            }
        }, None);

        byte[] actor = [.. Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7))];
        await replay.PublishWeightsAsync(1, [9], None);
        await replay.PublishWeightsAsync(2, [8, 8], None);
        await replay.PublishWeightsAsync(3, actor, None);
        await third.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var latest = await replay.ReadLatestWeightsAsync(None);
        Assert.Equal(3, latest!.Value.Version);
        Assert.Equal(actor, latest.Value.Actor);
        lock (announced) Assert.Equal(new long[] { 1, 2, 3 }, announced);

        await subscription.DisposeAsync();
        await replay.PublishWeightsAsync(4, [1], None);
        await replay.ReadLatestWeightsAsync(None); // a round trip after the publish: a late message would have arrived
        await Task.Delay(100);
        lock (announced) Assert.Equal(3, announced.Count);
    }

    [Fact]
    public async Task Learner_progress_starts_at_zero_and_round_trips()
    {
        await using var replay = await TestRuns.OpenAsync(redis.OnlyFirst, TestRuns.NewRunId(), capacity: 10);
        Assert.Equal((0L, 0L), await replay.ReadLearnerProgressAsync(None));
        await replay.PublishLearnerProgressAsync(12_345, 49, None);
        Assert.Equal((12_345L, 49L), await replay.ReadLearnerProgressAsync(None));
    }

    [Fact]
    public async Task Registered_workers_are_known_with_their_last_seen_time()
    {
        await using var replay = await TestRuns.OpenAsync(redis.OnlyFirst, TestRuns.NewRunId(), capacity: 10);
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.False(await replay.IsWorkerKnownAsync("worker-1", None));

        await replay.RegisterWorkerAsync("worker-1", None);

        Assert.True(await replay.IsWorkerKnownAsync("worker-1", None));
        Assert.False(await replay.IsWorkerKnownAsync("worker-2", None));
        var workers = await replay.ReadWorkersAsync(None);
        Assert.InRange(workers["worker-1"], before, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }
}
