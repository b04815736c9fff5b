using DistSac.Protocol;
using StackExchange.Redis;

namespace DistSac.Replay.Tests;

public sealed class InsertTests(TwoRedisServers redis) : IClassFixture<TwoRedisServers>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Records_fill_the_ring_in_order_and_the_state_counts_them()
    {
        await using var replay = await OneShardRunAsync(capacity: 10);

        var result = await replay.InsertAsync("w", 0, TestRuns.Records(4, firstId: 0), 4, None);

        Assert.Equal(new InsertResult(4, false, 0, 4), result);
        var stats = await replay.ReadStatsAsync(None);
        Assert.Equal(new ShardStats(0, Fill: 4, Cursor: 4, TotalInserted: 4), stats.Shards[0]);
        Assert.Equal(new int?[] { 0, 1, 2, 3, null, null, null, null, null, null }, await SlotIdsAsync(replay, 0, 10));
        await AssertSlotsHoldExactRecordsAsync(replay, 0, 10);
    }

    [Fact]
    public async Task A_chunk_larger_than_the_remaining_ring_wraps_and_evicts_the_oldest_records()
    {
        await using var replay = await OneShardRunAsync(capacity: 10);
        await replay.InsertAsync("w", 0, TestRuns.Records(7, firstId: 0), 7, None);

        // 3 slots remain; ids 7,8,9 fill them and ids 10..13 overwrite the oldest (0..3) at slots 0..3.
        var result = await replay.InsertAsync("w", 1, TestRuns.Records(7, firstId: 7), 7, None);

        Assert.Equal(7, result.Stored);
        Assert.Equal(14, result.ShardTotalInserted);
        Assert.Equal(new ShardStats(0, Fill: 10, Cursor: 4, TotalInserted: 14), (await replay.ReadStatsAsync(None)).Shards[0]);
        Assert.Equal(new int?[] { 10, 11, 12, 13, 4, 5, 6, 7, 8, 9 }, await SlotIdsAsync(replay, 0, 10));
        await AssertSlotsHoldExactRecordsAsync(replay, 0, 10);

        // The next record replaces slot 4, the oldest survivor (id 4).
        await replay.InsertAsync("w", 2, TestRuns.Records(1, firstId: 14), 1, None);
        Assert.Equal(new int?[] { 10, 11, 12, 13, 14, 5, 6, 7, 8, 9 }, await SlotIdsAsync(replay, 0, 10));
    }

    [Fact]
    public async Task Sampling_after_eviction_returns_only_surviving_records_byte_for_byte()
    {
        await using var replay = await OneShardRunAsync(capacity: 10);
        await replay.InsertAsync("w", 0, TestRuns.Records(7, firstId: 0), 7, None);
        await replay.InsertAsync("w", 1, TestRuns.Records(7, firstId: 7), 7, None);

        var seen = new HashSet<int>();
        var batch = new byte[64 * TestRuns.RecordBytes];
        var random = new Random(3);
        for (int b = 0; b < 10; b++)
        {
            await replay.SampleAsync(64, random, batch, None);
            for (int i = 0; i < 64; i++)
            {
                var record = TestRuns.RecordAt(batch, i);
                int id = TestRuns.Id(record);
                Assert.True(record.SequenceEqual(TestRuns.Records(1, id)), $"record {id} differs from what was inserted");
                seen.Add(id);
            }
        }
        Assert.Equal(Enumerable.Range(4, 10), seen.Order());
    }

    [Fact]
    public async Task A_chunk_larger_than_the_whole_capacity_keeps_only_its_last_capacity_records()
    {
        await using var replay = await OneShardRunAsync(capacity: 5);
        await replay.InsertAsync("w", 0, TestRuns.Records(2, firstId: 0), 2, None);

        var result = await replay.InsertAsync("w", 1, TestRuns.Records(12, firstId: 100), 12, None);

        // Record i lands at slot (2 + i) mod 5; only i = 7..11 (ids 107..111) are kept, and the cursor points at
        // slot (2 + 12) mod 5 = 4, which holds the oldest kept record (107).
        Assert.Equal(new InsertResult(5, false, 0, 14), result);
        Assert.Equal(new ShardStats(0, Fill: 5, Cursor: 4, TotalInserted: 14), (await replay.ReadStatsAsync(None)).Shards[0]);
        Assert.Equal(new int?[] { 108, 109, 110, 111, 107 }, await SlotIdsAsync(replay, 0, 5));
        await AssertSlotsHoldExactRecordsAsync(replay, 0, 5);
    }

    [Fact]
    public async Task Re_pushing_the_same_worker_and_sequence_stores_nothing_and_reports_a_duplicate()
    {
        await using var replay = await OneShardRunAsync(capacity: 100);
        await replay.InsertAsync("w", 5, TestRuns.Records(3, firstId: 0), 3, None);

        var again = await replay.InsertAsync("w", 5, TestRuns.Records(3, firstId: 50), 3, None);

        Assert.Equal(new InsertResult(0, true, 0, 3), again);
        Assert.Equal(new ShardStats(0, 3, 3, 3), (await replay.ReadStatsAsync(None)).Shards[0]);
        Assert.Equal(new int?[] { 0, 1, 2, null }, await SlotIdsAsync(replay, 0, 4));

        // Another worker's sequence 5 and this worker's next sequence are new.
        Assert.False((await replay.InsertAsync("other", 5, TestRuns.Records(1, firstId: 70), 1, None)).Duplicate);
        Assert.False((await replay.InsertAsync("w", 6, TestRuns.Records(1, firstId: 71), 1, None)).Duplicate);
        Assert.Equal(5, (await replay.ReadStatsAsync(None)).TotalInserted);
    }

    [Fact]
    public async Task A_sequence_older_than_anything_its_lane_stored_is_refused_not_acknowledged_as_a_duplicate()
    {
        await using var replay = await OneShardRunAsync(capacity: 100);
        await replay.InsertAsync("w", 5, TestRuns.Records(3, firstId: 0), 3, None);

        var older = await Assert.ThrowsAsync<ReplaySequenceException>(() => replay.InsertAsync("w", 4, TestRuns.Records(3, firstId: 60), 3, None));

        Assert.Contains("sequence 4 of worker 'w' incarnation 0 is older than 5", older.Message);
        Assert.Null(older.ExpectedSequence);
        Assert.Equal(3, (await replay.ReadStatsAsync(None)).TotalInserted);
    }

    [Fact]
    public async Task A_gap_is_refused_naming_the_expected_sequence_and_the_skipped_ones_stay_storable()
    {
        await using var replay = await OneShardRunAsync(capacity: 100);
        await replay.InsertAsync("w", 7, 0, TestRuns.Records(1, firstId: 0), 1, None);

        var gap = await Assert.ThrowsAsync<ReplaySequenceException>(() => replay.InsertAsync("w", 7, 5, TestRuns.Records(1, firstId: 5), 1, None));

        Assert.Equal(1, gap.ExpectedSequence);
        Assert.Contains("sequence 5 of worker 'w' incarnation 7 skips sequence 1, which was never stored", gap.Message);
        Assert.Equal(1, (await replay.ReadStatsAsync(None)).TotalInserted);
        // The case: after the refused 5, the older 3 and 4 are not duplicates; 1..5 in order are all stored.
        for (int seq = 1; seq <= 5; seq++)
            Assert.Equal(1, (await replay.InsertAsync("w", 7, seq, TestRuns.Records(1, firstId: seq), 1, None)).Stored);
        Assert.Equal(6, (await replay.ReadStatsAsync(None)).TotalInserted);
    }

    [Fact]
    public async Task On_two_shards_each_lane_steps_by_the_shard_count_and_a_gap_names_the_next_sequence_of_its_lane()
    {
        await using var replay = await TwoShardRunAsync(capacity: 100);
        for (int seq = 0; seq < 4; seq++)
            await replay.InsertAsync("w", 1, seq, TestRuns.Records(1, firstId: seq), 1, None);

        var gap = await Assert.ThrowsAsync<ReplaySequenceException>(() => replay.InsertAsync("w", 1, 6, TestRuns.Records(1, firstId: 6), 1, None));

        Assert.Equal(4, gap.ExpectedSequence);
        Assert.True((await replay.InsertAsync("w", 1, 2, TestRuns.Records(1, firstId: 2), 1, None)).Duplicate);
        Assert.True((await replay.InsertAsync("w", 1, 3, TestRuns.Records(1, firstId: 3), 1, None)).Duplicate);
        Assert.Equal(1, (await replay.InsertAsync("w", 1, 4, TestRuns.Records(1, firstId: 4), 1, None)).Stored);
        Assert.Equal(5, (await replay.ReadStatsAsync(None)).TotalInserted);
    }

    [Theory]
    [InlineData(9007199254740992L)]        // 2^53: 2^53 + 1 rounds to 2^53 as a double
    [InlineData(9223372036854775806L)]     // 2^63 - 2: the next one is long.MaxValue
    [InlineData(99999999999999999L)]       // the next one has one more digit
    public async Task Sequences_are_compared_exactly_up_to_2_to_the_63(long start)
    {
        await using var replay = await OneShardRunAsync(capacity: 100);

        var first = await replay.InsertAsync("w", 1, start, TestRuns.Records(1, firstId: 0), 1, None);
        var next = await replay.InsertAsync("w", 1, start + 1, TestRuns.Records(1, firstId: 1), 1, None);
        var retry = await replay.InsertAsync("w", 1, start + 1, TestRuns.Records(1, firstId: 2), 1, None);
        var gap = await Assert.ThrowsAsync<ReplaySequenceException>(() => replay.InsertAsync("w", 1, start - 5, TestRuns.Records(1, firstId: 3), 1, None));

        Assert.Equal((1, false), (first.Stored, first.Duplicate));
        Assert.Equal((1, false), (next.Stored, next.Duplicate));
        Assert.Equal((0, true), (retry.Stored, retry.Duplicate));
        Assert.Contains($"is older than {start}", gap.Message);
        Assert.Equal(2, (await replay.ReadStatsAsync(None)).TotalInserted);
    }

    [Fact]
    public async Task A_new_incarnation_of_a_worker_starts_its_sequences_again_without_colliding()
    {
        await using var replay = await TwoShardRunAsync(capacity: 100);
        long before = await replay.RegisterWorkerAsync("w", None);
        for (int seq = 0; seq < 3; seq++)
            await replay.InsertAsync("w", before, seq, TestRuns.Records(2, firstId: seq * 2), 2, None);

        long after = await replay.RegisterWorkerAsync("w", None);
        var results = new List<InsertResult>();
        for (int seq = 0; seq < 3; seq++)
            results.Add(await replay.InsertAsync("w", after, seq, TestRuns.Records(2, firstId: 10 + seq * 2), 2, None));

        Assert.True(after > before, $"incarnation {after} after {before}");
        Assert.All(results, r => Assert.Equal((2, false), (r.Stored, r.Duplicate)));
        Assert.Equal(12, (await replay.ReadStatsAsync(None)).TotalInserted);
        Assert.Equal(12, (await replay.ReadWorkerTransitionsAsync(None))["w"]);
        Assert.Equal(after, await replay.ReadIncarnationAsync("w", None));
    }

    [Fact]
    public async Task Incarnations_keep_growing_after_shard_0_forgot_them()
    {
        await using var replay = await OneShardRunAsync(capacity: 100);
        long first = await replay.RegisterWorkerAsync("w", None);
        long second = await replay.RegisterWorkerAsync("w", None);
        await using (var mux = await ConnectionMultiplexer.ConnectAsync(redis.OnlyFirst[0].Endpoint))
            await mux.GetDatabase().KeyDeleteAsync(RunKeys.Incarnations(replay.Options.RunId));
        await Task.Delay(10); // a restart of Redis and of the worker takes far longer than the clock's 1 ms step

        long third = await replay.RegisterWorkerAsync("w", None);

        Assert.True(second > first, $"incarnation {second} after {first}");
        Assert.True(first >= DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000, $"{first} is not from the clock");
        Assert.True(third > second, $"incarnation {third} was issued again after the key was lost (had {first}, {second})");
    }

    [Fact]
    public async Task Chunks_go_to_shard_sequence_modulo_shard_count()
    {
        await using var replay = await TwoShardRunAsync(capacity: 100);

        int[] shards = new int[5];
        for (int seq = 0; seq < 5; seq++)
            shards[seq] = (await replay.InsertAsync("w", seq, TestRuns.Records(2, seq * 10), 2, None)).Shard;

        Assert.Equal(new[] { 0, 1, 0, 1, 0 }, shards);
        var stats = await replay.ReadStatsAsync(None);
        Assert.Equal(6, stats.Shards[0].Fill);
        Assert.Equal(4, stats.Shards[1].Fill);
        Assert.Equal(new int?[] { 10, 11, 30, 31 }, await SlotIdsAsync(replay, 1, 4, server: 1));
    }

    [Fact]
    public async Task Per_worker_counts_sum_over_shards_survive_eviction_and_ignore_duplicates()
    {
        await using var replay = await TwoShardRunAsync(capacity: 4);

        await replay.InsertAsync("a", 0, TestRuns.Records(3, 0), 3, None);   // shard 0
        await replay.InsertAsync("a", 1, TestRuns.Records(2, 10), 2, None);  // shard 1
        await replay.InsertAsync("a", 1, TestRuns.Records(2, 20), 2, None);  // duplicate: not counted
        await replay.InsertAsync("b", 2, TestRuns.Records(4, 30), 4, None);  // shard 0: evicts 3 of a's records
        await replay.InsertAsync("a", 3, TestRuns.Records(1, 40), 1, None);  // shard 1

        var counts = await replay.ReadWorkerTransitionsAsync(None);

        Assert.Equal(2, counts.Count);
        Assert.Equal(6, counts["a"]);
        Assert.Equal(4, counts["b"]);
        Assert.Equal((await replay.ReadStatsAsync(None)).TotalInserted, counts.Values.Sum());
    }

    [Fact]
    public async Task Concurrent_writers_never_lose_or_duplicate_a_record()
    {
        await using var replay = await OneShardRunAsync(capacity: 10_000);

        var writers = new Task[8];
        for (int w = 0; w < writers.Length; w++)
        {
            int worker = w;
            writers[w] = Task.Run(async () =>
            {
                for (int seq = 0; seq < 20; seq++)
                    await replay.InsertAsync($"w{worker}", seq, TestRuns.Records(16, worker * 1000 + seq * 16), 16, None);
            });
        }
        await Task.WhenAll(writers);

        const int Expected = 8 * 20 * 16;
        Assert.Equal(new ShardStats(0, Expected, Expected, Expected), (await replay.ReadStatsAsync(None)).Shards[0]);
        var ids = await SlotIdsAsync(replay, 0, Expected);
        Assert.DoesNotContain(null, ids);
        Assert.Equal(Expected, ids.Distinct().Count());
        // Each chunk is contiguous: a chunk is one atomic step, so no other writer's records land inside it.
        for (int slot = 0; slot < Expected; slot += 16)
            for (int k = 1; k < 16; k++)
                Assert.Equal(ids[slot]! + k, ids[slot + k]);
    }

    [Fact]
    public async Task Bad_lengths_and_counts_are_rejected_before_touching_redis()
    {
        await using var replay = await OneShardRunAsync(capacity: 10);
        var records = TestRuns.Records(2, 0);

        await Assert.ThrowsAsync<ArgumentException>(() => replay.InsertAsync("w", 0, records, 3, None));
        await Assert.ThrowsAsync<ArgumentException>(() => replay.InsertAsync("w", 0, records.AsMemory(1), 2, None));
        await Assert.ThrowsAsync<ArgumentException>(() => replay.InsertAsync("w", 0, Array.Empty<byte>(), 0, None));
        int tooMany = ProtocolLimits.MaxBatchTransitions + 1;
        await Assert.ThrowsAsync<ArgumentException>(() => replay.InsertAsync("w", 0, new byte[tooMany * 40], tooMany, None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => replay.InsertAsync("w", -1, records, 2, None));
        Assert.Equal(0, (await replay.ReadStatsAsync(None)).TotalInserted);
    }

    [Fact]
    public async Task The_largest_allowed_chunk_is_stored_in_one_step()
    {
        await using var replay = await OneShardRunAsync(capacity: 100_000);
        int n = ProtocolLimits.MaxBatchTransitions;

        var result = await replay.InsertAsync("w", 0, TestRuns.Records(n, 0), n, None);

        Assert.Equal(n, result.Stored);
        var ids = await SlotIdsAsync(replay, 0, n);
        Assert.Equal(Enumerable.Range(0, n).Select(i => (int?)i), ids);
    }

    [Fact]
    public async Task A_gateway_that_only_reads_the_metadata_can_insert_even_after_the_script_cache_is_flushed()
    {
        string run = TestRuns.NewRunId();
        await using var learner = await TestRuns.OpenAsync(redis.OnlyFirst, run, capacity: 10);
        await using var gateway = await TestRuns.OpenAsync(redis.OnlyFirst, run, capacity: 10, initialize: false);
        Assert.NotNull(await gateway.ReadMetadataAsync(None));
        await gateway.InsertAsync("w", 0, TestRuns.Records(1, 0), 1, None);

        await using (var admin = await ConnectionMultiplexer.ConnectAsync(redis.First.Endpoint))
            await admin.GetDatabase().ExecuteAsync("SCRIPT", "FLUSH");

        var result = await gateway.InsertAsync("w", 1, TestRuns.Records(1, 1), 1, None);
        Assert.Equal(1, result.Stored);
        Assert.Equal(new int?[] { 0, 1 }, await SlotIdsAsync(run, 0, 2));
    }

    [Fact]
    public async Task Inserting_into_a_run_that_was_never_initialized_fails_clearly()
    {
        await using var replay = await OneShardRunAsync(capacity: 10, initialize: false);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => replay.InsertAsync("w", 0, TestRuns.Records(1, 0), 1, None));
        Assert.Contains(replay.Options.RunId, ex.Message, StringComparison.Ordinal);
    }

    /// <summary>A new run on the first server only: one shard whose ring holds <paramref name="capacity"/> records.</summary>
    private Task<ShardedReplay> OneShardRunAsync(long capacity, bool initialize = true) =>
        TestRuns.OpenAsync(redis.OnlyFirst, TestRuns.NewRunId(), capacity, initialize);

    /// <summary>A new run on both servers: shard 0 on the first, shard 1 on the second.</summary>
    private Task<ShardedReplay> TwoShardRunAsync(long capacity) => TestRuns.OpenAsync(redis.Servers, TestRuns.NewRunId(), capacity);

    /// <summary>The ids of the records in slots 0..slots-1 of a shard's ring, read from Redis directly (null: empty slot).</summary>
    private Task<int?[]> SlotIdsAsync(ShardedReplay replay, int shard, int slots, int server = 0) => SlotIdsAsync(replay.Options.RunId, shard, slots, server);

    private async Task<int?[]> SlotIdsAsync(string run, int shard, int slots, int server = 0)
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.Servers[server].Endpoint);
        var fields = new RedisValue[slots];
        for (int i = 0; i < slots; i++) fields[i] = i;
        var values = await mux.GetDatabase().HashGetAsync(RunKeys.ShardData(run, shard), fields);
        var ids = new int?[slots];
        for (int i = 0; i < slots; i++) ids[i] = values[i].IsNull ? null : TestRuns.Id((byte[])values[i]!);
        return ids;
    }

    private async Task AssertSlotsHoldExactRecordsAsync(ShardedReplay replay, int shard, int slots)
    {
        string run = replay.Options.RunId;
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.First.Endpoint);
        for (int i = 0; i < slots; i++)
        {
            var value = await mux.GetDatabase().HashGetAsync(RunKeys.ShardData(run, shard), i);
            if (value.IsNull) continue;
            var bytes = (byte[])value!;
            Assert.Equal(TestRuns.Records(1, TestRuns.Id(bytes)), bytes);
        }
    }
}
