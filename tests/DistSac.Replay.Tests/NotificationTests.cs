namespace DistSac.Replay.Tests;

/// <summary>The pub/sub that replaces polling: learner progress (with the finished mark) and per-shard insert messages.</summary>
public sealed class NotificationTests(TwoRedisServers redis) : IClassFixture<TwoRedisServers>
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Learner_progress_is_stored_with_its_finished_mark_and_announced_to_subscribers()
    {
        await using var replay = await TestRuns.OpenAsync(redis.OnlyFirst, TestRuns.NewRunId(), capacity: 10);
        var heard = new TaskCompletionSource<LearnerProgress>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await replay.SubscribeLearnerProgressAsync(p => heard.TrySetResult(p), None);

        await replay.PublishLearnerProgressAsync(new LearnerProgress(12_345, 49, Finished: true), None);

        Assert.Equal(new LearnerProgress(12_345, 49, true), await heard.Task.WaitAsync(Patience));
        Assert.Equal(new LearnerProgress(12_345, 49, true), await replay.ReadLearnerStateAsync(None));
        await replay.PublishLearnerProgressAsync(12_346, 50, None); // a (re)started learner clears the mark
        Assert.Equal(new LearnerProgress(12_346, 50, false), await replay.ReadLearnerStateAsync(None));
    }

    [Fact]
    public async Task Every_storing_insert_is_announced_by_its_shard_and_a_duplicate_is_not()
    {
        await using var replay = await TestRuns.OpenAsync(redis.Servers, TestRuns.NewRunId(), capacity: 100);
        var shards = new List<int>();
        var two = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (await replay.SubscribeInsertsAsync(s => { lock (shards) { shards.Add(s); if (shards.Count == 2) two.TrySetResult(); } }, None))
        {
            await replay.InsertAsync("w", 0, TestRuns.Records(3, 0), 3, None); // sequence 0 -> shard 0
            await replay.InsertAsync("w", 1, TestRuns.Records(3, 3), 3, None); // sequence 1 -> shard 1
            await two.Task.WaitAsync(Patience);
            var duplicate = await replay.InsertAsync("w", 1, TestRuns.Records(3, 3), 3, None);
            await replay.ReadStatsAsync(None); // a round trip on both shards after it: a message would have arrived
            await Task.Delay(100);

            Assert.True(duplicate.Duplicate);
            lock (shards) Assert.Equal(new[] { 0, 1 }, shards.Order());
        }
    }

    [Theory]
    [InlineData("1 2 0", true)]
    [InlineData("1 2 1", true)]
    [InlineData("1 2", false)]
    [InlineData("1 2 3", false)]
    [InlineData("-1 2 0", false)]
    [InlineData("a b c", false)]
    public void Progress_messages_that_are_not_ours_are_ignored(string text, bool parses) =>
        Assert.Equal(parses, LearnerProgress.TryParse(text, out _));
}
