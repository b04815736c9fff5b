namespace DistSac.Replay.Tests;

public sealed class PrefetcherTests(TwoRedisServers redis) : IClassFixture<TwoRedisServers>
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Batches_hold_stored_records_and_their_buffers_are_reused()
    {
        await using var replay = await TestRuns.OpenAsync(redis.Servers, TestRuns.NewRunId(), capacity: 1000);
        await replay.InsertAsync("w", 0, TestRuns.Records(100, 0), 100, None);
        await replay.InsertAsync("w", 1, TestRuns.Records(100, 100), 100, None);
        await using var prefetcher = new ReplayPrefetcher(replay, batchSize: 32, depth: 3, seed: 1);

        var buffers = new HashSet<byte[]>(ReferenceEqualityComparer.Instance);
        for (int b = 0; b < 50; b++)
        {
            var batch = await prefetcher.NextAsync(None).AsTask().WaitAsync(Patience);
            Assert.Equal(32, batch.Count);
            Assert.Equal(32 * TestRuns.RecordBytes, batch.Records.Length);
            Assert.Equal(200, batch.TotalFill);
            for (int i = 0; i < 32; i++)
            {
                var record = TestRuns.RecordAt(batch.Records, i);
                Assert.True(record.SequenceEqual(TestRuns.Records(1, TestRuns.Id(record))));
            }
            buffers.Add(batch.Records);
            prefetcher.Return(batch);
        }
        // depth ready + one being sampled + one lent: the pool never needs more.
        Assert.InRange(buffers.Count, 1, 3 + 2);
    }

    [Fact]
    public async Task A_prefetcher_started_before_any_data_delivers_once_transitions_arrive()
    {
        string run = TestRuns.NewRunId();
        await using var learner = await TestRuns.OpenAsync(redis.OnlyFirst, run, capacity: 100, initialize: false);
        await using var prefetcher = new ReplayPrefetcher(learner, batchSize: 8, depth: 2, seed: 2);
        var next = prefetcher.NextAsync(None).AsTask();
        await Task.Delay(200);
        Assert.False(next.IsCompleted);

        await using var gateway = await TestRuns.OpenAsync(redis.OnlyFirst, run, capacity: 100);
        await gateway.InsertAsync("w", 0, TestRuns.Records(5, 0), 5, None);

        var batch = await next.WaitAsync(Patience);
        for (int i = 0; i < 8; i++) Assert.InRange(TestRuns.Id(TestRuns.RecordAt(batch.Records, i)), 0, 4);
        prefetcher.Return(batch);
    }

    [Fact]
    public async Task Dispose_stops_the_sampling_loops_even_when_the_queue_is_full()
    {
        await using var replay = await TestRuns.OpenAsync(redis.OnlyFirst, TestRuns.NewRunId(), capacity: 100);
        await replay.InsertAsync("w", 0, TestRuns.Records(10, 0), 10, None);
        var prefetcher = new ReplayPrefetcher(replay, batchSize: 4, depth: 2, seed: 3, logger: null, parallelism: 2);
        var held = await prefetcher.NextAsync(None);
        while (prefetcher.ReadyCount < 2) await Task.Delay(10);

        await prefetcher.DisposeAsync().AsTask().WaitAsync(Patience);

        await Assert.ThrowsAsync<ObjectDisposedException>(() => prefetcher.NextAsync(None).AsTask());
        prefetcher.Return(held); // a batch lent before dispose can still be handed back
        await prefetcher.DisposeAsync(); // idempotent
    }

    [Fact]
    public async Task Returning_a_batch_twice_or_to_another_prefetcher_is_an_error()
    {
        await using var replay = await TestRuns.OpenAsync(redis.OnlyFirst, TestRuns.NewRunId(), capacity: 100);
        await replay.InsertAsync("w", 0, TestRuns.Records(10, 0), 10, None);
        await using var one = new ReplayPrefetcher(replay, 4, 1, 4);
        await using var other = new ReplayPrefetcher(replay, 4, 1, 5);

        var batch = await one.NextAsync(None).AsTask().WaitAsync(Patience);
        Assert.Throws<ArgumentException>(() => other.Return(batch));
        one.Return(batch);
        Assert.Throws<InvalidOperationException>(() => one.Return(batch));
    }
}
