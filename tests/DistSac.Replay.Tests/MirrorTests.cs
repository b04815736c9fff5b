using DistSac.Testing;
using StackExchange.Redis;

namespace DistSac.Replay.Tests;

/// <summary>The learner's mirror of the shards (ReplayMirror): equal to Redis after inserts, wrap-around, flushes and restarts; uniform sampling.</summary>
public sealed class MirrorTests(TwoRedisServers redis) : IClassFixture<TwoRedisServers>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task The_mirror_equals_redis_after_inserts_on_two_shards()
    {
        string run = TestRuns.NewRunId();
        await using var replay = await TestRuns.OpenAsync(redis.Servers, run, capacity: 10_000);
        await using var mirror = new ReplayMirror(replay, replay.Metadata!);
        Assert.Equal(0, await mirror.RefillAsync(None));
        Assert.Equal(0, mirror.Sample(4, new Random(1), new byte[4 * TestRuns.RecordBytes]));

        await replay.InsertAsync("w", 0, TestRuns.Records(300, 0), 300, None);
        await replay.InsertAsync("w", 1, TestRuns.Records(50, 1000), 50, None);
        Assert.Equal(350, await mirror.RefillAsync(None));
        await AssertMirrorEqualsRedisAsync(mirror, run);

        // Only what was stored since the last read is read again, and chunks larger than one HMGET are split.
        await replay.InsertAsync("w", 2, TestRuns.Records(4096, 2000), 4096, None);
        await replay.InsertAsync("w", 4, TestRuns.Records(10, 9000), 10, None);
        Assert.Equal(4106, await mirror.RefillAsync(None));
        Assert.Equal(0, await mirror.RefillAsync(None));
        await AssertMirrorEqualsRedisAsync(mirror, run);
        Assert.Equal(4456, mirror.TotalFill);
    }

    [Fact]
    public async Task The_mirror_equals_redis_after_the_ring_wraps_around()
    {
        string run = TestRuns.NewRunId();
        await using var replay = await TestRuns.OpenAsync(redis.OnlyFirst, run, capacity: 100);
        await using var mirror = new ReplayMirror(replay, replay.Metadata!);
        await replay.InsertAsync("w", 0, TestRuns.Records(70, 0), 70, None);
        await mirror.RefillAsync(None);

        // 60 more: slots 70..99 and 0..29 (a wrap inside one refill).
        await replay.InsertAsync("w", 1, TestRuns.Records(60, 70), 60, None);
        Assert.Equal(60, await mirror.RefillAsync(None));
        await AssertMirrorEqualsRedisAsync(mirror, run);

        // More than a whole capacity since the last read: every slot is read again (only the latest 100 exist).
        await replay.InsertAsync("w", 2, TestRuns.Records(90, 130), 90, None);
        await replay.InsertAsync("w", 3, TestRuns.Records(80, 220), 80, None);
        Assert.Equal(100, await mirror.RefillAsync(None));
        await AssertMirrorEqualsRedisAsync(mirror, run);
        Assert.Equal(300, mirror.MirroredTotal(0));
        var record = new byte[TestRuns.RecordBytes];
        Assert.True(mirror.TryCopyRecord(0, 299 % 100, record));
        Assert.Equal(299, TestRuns.Id(record));
    }

    [Fact]
    public async Task A_flushed_shard_is_dropped_from_the_mirror_and_refilled()
    {
        string run = TestRuns.NewRunId();
        await using var replay = await TestRuns.OpenAsync(redis.Servers, run, capacity: 1000);
        await using var mirror = new ReplayMirror(replay, replay.Metadata!);
        await replay.InsertAsync("w", 0, TestRuns.Records(50, 0), 50, None);
        await replay.InsertAsync("w", 1, TestRuns.Records(80, 100), 80, None);
        await mirror.RefillAsync(None);
        Assert.Equal(80, mirror.Fill(1));

        // Shard 1 forgets the run (a restart without persistence, FLUSHALL), then stores 20 new records.
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(redis.Servers[1].Endpoint))
            await admin.GetDatabase().KeyDeleteAsync([RunKeys.ShardData(run, 1), RunKeys.ShardState(run, 1), RunKeys.ShardSequences(run, 1)]);
        await replay.InsertAsync("w", 3, TestRuns.Records(20, 500), 20, None);
        await mirror.RefillAsync(None);

        Assert.Equal(20, mirror.Fill(1));
        await AssertMirrorEqualsRedisAsync(mirror, run);
        var buffer = new byte[256 * TestRuns.RecordBytes];
        for (int b = 0; b < 20; b++)
        {
            Assert.Equal(70, mirror.Sample(256, new Random(b), buffer));
            for (int i = 0; i < 256; i++)
            {
                int id = TestRuns.Id(TestRuns.RecordAt(buffer, i));
                Assert.True(id is (>= 0 and < 50) or (>= 500 and < 520), $"sampled id {id}, which is no longer stored");
            }
        }
    }

    [Fact]
    public async Task A_shard_restarted_empty_and_refilled_past_its_old_count_is_read_again_after_the_reconnect()
    {
        await using var first = await RedisServer.StartAsync();
        var second = await RedisServer.StartAsync();
        RedisServer? restarted = null;
        try
        {
            string run = TestRuns.NewRunId();
            await using var replay = await TestRuns.OpenAsync([first, second], run, capacity: 1000);
            await using var mirror = new ReplayMirror(replay, replay.Metadata!);
            mirror.Start();
            await replay.InsertAsync("w", 1, TestRuns.Records(30, 100), 30, None);
            await WaitForAsync(() => mirror.Fill(1) == 30, "the first 30 records to be mirrored");

            await second.KillAsync();
            restarted = await RedisServer.StartAsync(port: second.Port);
            // Stored while the mirror may not have noticed yet: more than before, so the count alone never goes down.
            await using (var direct = await TestRuns.OpenAsync([first, restarted], run, capacity: 1000, initialize: false))
            {
                await direct.RequireMetadataAsync(None);
                await direct.InsertAsync("v", 1, TestRuns.Records(40, 700), 40, None);
            }
            await WaitForAsync(async () => mirror.Fill(1) == 40 && await MirrorEqualsRedisAsync(mirror, run, [first, restarted]),
                "the mirror to re-read the restarted shard");
        }
        finally
        {
            await second.DisposeAsync();
            if (restarted is not null) await restarted.DisposeAsync();
        }
    }

    [Fact]
    public async Task Mirror_samples_are_uniform_over_all_transitions_across_shards_with_unequal_fill()
    {
        await using var replay = await UnequalFillRun.OpenAsync(redis.Servers);
        await using var mirror = new ReplayMirror(replay, replay.Metadata!);
        await mirror.RefillAsync(None);

        const int Batch = 256, Batches = 400;
        var counts = new long[100];
        var random = new Random(20240602);
        var buffer = new byte[Batch * TestRuns.RecordBytes];
        var origins = new SampleOrigins(Batch);
        for (int b = 0; b < Batches; b++)
        {
            Assert.Equal(100, mirror.Sample(Batch, random, buffer, origins));
            for (int i = 0; i < Batch; i++)
            {
                var record = TestRuns.RecordAt(buffer, i);
                int id = TestRuns.Id(record);
                Assert.True(record.SequenceEqual(TestRuns.Records(1, id)));
                Assert.Equal(id < 100 ? 0 : 1, origins.Shard(i));
                Assert.Equal(id < 100 ? id : id - 100, origins.Slot(i));
                counts[UnequalFillRun.Cell(id)]++;
            }
        }

        UnequalFillRun.AssertUniform(counts);
    }

    [Fact]
    public async Task Sampling_from_the_mirror_allocates_nothing()
    {
        await using var replay = await UnequalFillRun.OpenAsync(redis.Servers);
        await using var mirror = new ReplayMirror(replay, replay.Metadata!);
        await mirror.RefillAsync(None);
        await using var source = new MirrorBatchSource(mirror, 256, seed: 3);
        for (int i = 0; i < 10; i++) source.Return(await source.NextAsync(None)); // the pooled batch and scratch arrays exist now

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            var next = source.NextAsync(None);
            Assert.True(next.IsCompletedSuccessfully, "a batch from a filled mirror is ready at once");
            source.Return(await next);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task A_record_changed_in_redis_outside_the_insert_script_is_repaired_by_the_scrub()
    {
        string run = TestRuns.NewRunId();
        await using var replay = await TestRuns.OpenAsync(redis.OnlyFirst, run, capacity: 1000);
        await replay.InsertAsync("w", 0, TestRuns.Records(10, 0), 10, None);
        await using var mirror = new ReplayMirror(replay, replay.Metadata!);
        await mirror.RefillAsync(None);
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(redis.First.Endpoint))
            await admin.GetDatabase().HashSetAsync(RunKeys.ShardData(run, 0), "3", TestRuns.Records(1, 777));

        Assert.Equal(0, await mirror.RefillAsync(None)); // the cursor did not move: the refill cannot see it
        Assert.Equal(1, await mirror.ScrubShardAsync(0, None));
        await AssertMirrorEqualsRedisAsync(mirror, run);
    }

    [Fact]
    public async Task Mirrored_stats_keep_a_down_shards_last_counters_and_name_it()
    {
        await using var first = await RedisServer.StartAsync();
        await using var second = await RedisServer.StartAsync();
        string run = TestRuns.NewRunId();
        await using var replay = await TestRuns.OpenAsync([first, second], run, capacity: 100);
        await replay.InsertAsync("w", 0, TestRuns.Records(5, 0), 5, None);
        await replay.InsertAsync("w", 1, TestRuns.Records(7, 100), 7, None);
        await using var mirror = new ReplayMirror(replay, replay.Metadata!);
        await mirror.RefillAsync(None);
        Assert.Empty((await mirror.ReadStatsAsync(None)).Unavailable);

        await second.KillAsync();
        await replay.InsertAsync("w", 2, TestRuns.Records(3, 5), 3, None);
        var reading = await mirror.ReadStatsAsync(None);
        Assert.Equal(1, Assert.Single(reading.Unavailable).Shard);
        Assert.Equal(15, reading.Stats.TotalInserted);
        Assert.Equal(7, reading.Stats.Shards[1].TotalInserted);
        // Sampling goes on from both mirrored slices.
        Assert.Equal(12, mirror.Sample(8, new Random(1), new byte[8 * TestRuns.RecordBytes]));
    }

    private async Task AssertMirrorEqualsRedisAsync(ReplayMirror mirror, string run) =>
        Assert.True(await MirrorEqualsRedisAsync(mirror, run, redis.Servers[..mirror.ShardCount]), "the mirror differs from Redis");

    /// <summary>Every shard: mirrored fill and total equal the state hash, and every stored slot is byte-equal.</summary>
    private static async Task<bool> MirrorEqualsRedisAsync(ReplayMirror mirror, string run, IReadOnlyList<RedisServer> servers)
    {
        var record = new byte[TestRuns.RecordBytes];
        for (int s = 0; s < mirror.ShardCount; s++)
        {
            await using var admin = await ConnectionMultiplexer.ConnectAsync(servers[s].Endpoint);
            var db = admin.GetDatabase();
            var state = await db.HashGetAsync(RunKeys.ShardState(run, s), ["fill", "total"]);
            long fill = state[0].IsNull ? 0 : (long)state[0], total = state[1].IsNull ? 0 : (long)state[1];
            if (mirror.Fill(s) != fill || mirror.MirroredTotal(s) != total) return false;
            var data = await db.HashGetAllAsync(RunKeys.ShardData(run, s));
            if (data.Length != fill) return false;
            foreach (var entry in data)
            {
                if (!mirror.TryCopyRecord(s, (long)entry.Name, record)) return false;
                if (!record.AsSpan().SequenceEqual((byte[])entry.Value!)) return false;
            }
        }
        return true;
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }

    private static Task WaitForAsync(Func<bool> condition, string what) => WaitForAsync(() => Task.FromResult(condition()), what);
}
