namespace DistSac.Replay.Tests;

/// <summary>The benchmarks run and count real work; the numbers themselves are reported by `distsac bench`, not asserted.</summary>
public sealed class BenchmarkTests(TwoRedisServers redis) : IClassFixture<TwoRedisServers>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task The_sample_benchmark_fills_an_empty_run_and_reports_a_positive_rate()
    {
        await using var replay = await TestRuns.OpenAsync(redis.Servers, TestRuns.NewRunId(), capacity: 50_000);

        double rate = await ReplayBenchmarks.SampleBatchesPerSecondAsync(replay, 256, TimeSpan.FromMilliseconds(300), concurrency: 2, None);

        Assert.True(rate > 0);
        Assert.Equal(100_000, (await replay.ReadStatsAsync(None)).Fill); // min(200k, 2 shards x 50k)
    }

    [Fact]
    public async Task The_insert_benchmark_stores_what_it_counts()
    {
        await using var replay = await TestRuns.OpenAsync(redis.Servers, TestRuns.NewRunId(), capacity: 1_000_000);

        double rate = await ReplayBenchmarks.InsertTransitionsPerSecondAsync(replay, chunk: 256, writers: 2, TimeSpan.FromMilliseconds(300), None);

        var stats = await replay.ReadStatsAsync(None);
        Assert.True(rate > 0);
        Assert.True(stats.TotalInserted > 0);
        Assert.Equal(0, stats.TotalInserted % 256);
    }
}
