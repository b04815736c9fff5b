using System.Diagnostics;
using DistSac.Protocol;
using DistSac.Testing;

namespace DistSac.Replay.Tests;

/// <summary>
/// The replay benchmarks (`distsac bench sample|ingest`) measure what they say: the rate is the work they did, counted
/// independently here (Redis's own command counts, the run's counters), over a time between the asked duration and the
/// call's length; what they store is valid and spread over the shards. No speed is asserted.
/// </summary>
public sealed class BenchmarkTests(TwoRedisServers redis) : IClassFixture<TwoRedisServers>
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Duration = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task The_sample_benchmark_fills_an_empty_run_evenly_over_the_shards_with_valid_records()
    {
        await using var replay = await TestRuns.OpenAsync(redis.Servers, TestRuns.NewRunId(), capacity: 50_000);

        await ReplayBenchmarks.SampleBatchesPerSecondAsync(replay, 256, Duration, concurrency: 2, None);

        // min(200k, 2 shards x 50k) = 100k, half on each shard: both rings exactly full.
        var stats = await replay.ReadStatsAsync(None);
        Assert.Equal(new ShardStats(0, Fill: 50_000, Cursor: 0, TotalInserted: 50_000), stats.Shards[0]);
        Assert.Equal(new ShardStats(1, Fill: 50_000, Cursor: 0, TotalInserted: 50_000), stats.Shards[1]);
        await AssertSampledRecordsAreValidAsync(replay);
    }

    [Fact]
    public async Task The_sample_benchmark_rate_is_the_batches_it_fetched_over_the_time_it_ran()
    {
        await using var replay = await TestRuns.OpenAsync(redis.Servers, TestRuns.NewRunId(), capacity: 50_000);
        await ReplayBenchmarks.FillAsync(replay, 10_000, None);
        // Every sampled batch reads each shard's fill with one HGET in its round trip (nothing else here sends HGET).
        long[] before = [await HgetCallsAsync(0), await HgetCallsAsync(1)];

        var clock = Stopwatch.StartNew();
        double rate = await ReplayBenchmarks.SampleBatchesPerSecondAsync(replay, 256, Duration, concurrency: 2, None);
        var elapsed = clock.Elapsed;

        long batches = await HgetCallsAsync(1) - before[1];
        Assert.True(batches > 0, "no batch was sampled");
        Assert.Equal(batches, await HgetCallsAsync(0) - before[0]);
        AssertRateIsCountOverRunTime(rate, batches, elapsed);
        Assert.Equal(10_000, (await replay.ReadStatsAsync(None)).TotalInserted); // a run that holds data is not filled again
    }

    [Fact]
    public async Task The_insert_benchmark_rate_is_what_its_writers_stored_over_the_time_it_ran()
    {
        const int Chunk = 256;
        await using var replay = await TestRuns.OpenAsync(redis.Servers, TestRuns.NewRunId(), capacity: 1_000_000);

        var clock = Stopwatch.StartNew();
        double rate = await ReplayBenchmarks.InsertTransitionsPerSecondAsync(replay, Chunk, writers: 2, Duration, None);
        var elapsed = clock.Elapsed;

        var stats = await replay.ReadStatsAsync(None);
        var perWriter = await replay.ReadWorkerTransitionsAsync(None);
        Assert.Equal(2, perWriter.Count);
        Assert.All(perWriter, w =>
        {
            Assert.StartsWith("bench-", w.Key, StringComparison.Ordinal);
            Assert.True(w.Value > 0 && w.Value % Chunk == 0, $"writer {w.Key} stored {w.Value}, not a positive number of whole chunks of {Chunk}");
        });
        Assert.Equal(stats.TotalInserted, perWriter.Values.Sum());
        // Each writer's sequences 0, 1, 2, ... alternate between the two shards: they differ by at most one chunk a writer.
        Assert.InRange(Math.Abs(stats.Shards[0].TotalInserted - stats.Shards[1].TotalInserted), 0, 2 * Chunk);
        foreach (var shard in stats.Shards)
            Assert.Equal(Math.Min(shard.TotalInserted, 1_000_000), shard.Fill);
        AssertRateIsCountOverRunTime(rate, stats.TotalInserted, elapsed);
        await AssertSampledRecordsAreValidAsync(replay);
    }

    /// <summary>
    /// rate = count / the benchmark's own run time, which lies between the asked duration (its samplers or writers stop
    /// only when it has passed; 1 % is left for the timer's granularity) and the whole call as timed here.
    /// </summary>
    private static void AssertRateIsCountOverRunTime(double rate, long count, TimeSpan call)
    {
        Assert.InRange(rate, count / call.TotalSeconds, count / (0.99 * Duration.TotalSeconds));
    }

    /// <summary>Records as the benchmarks write them: Pendulum's spaces, obs and actions in [-1, 1), reward in [-0.1, 0], version 0.</summary>
    private static async Task AssertSampledRecordsAreValidAsync(ShardedReplay replay)
    {
        var layout = TestRuns.Layout;
        var batch = new byte[512 * layout.RecordBytes];
        await replay.SampleAsync(512, new Random(5), batch, None);
        Assert.Null(layout.Validate(batch, 512));
        for (int i = 0; i < 512; i++)
        {
            var record = TestRuns.RecordAt(batch, i);
            var floats = layout.Floats(record);
            for (int k = 0; k < floats.Length; k++)
            {
                var (low, high) = layout.FieldKind(k) switch
                {
                    RecordField.Reward => (-0.1f, 0f),
                    RecordField.Terminated => (0f, 1f),
                    _ => (-1f, 1f),
                };
                Assert.InRange(floats[k], low, high);
            }
            Assert.Equal(0, layout.PolicyVersion(record));
        }
    }

    private Task<long> HgetCallsAsync(int server) => RedisCommandStats.CallsAsync(redis.Servers[server].Endpoint, "hget");
}
