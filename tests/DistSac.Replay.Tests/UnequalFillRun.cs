using DistSac.Testing;

namespace DistSac.Replay.Tests;

/// <summary>
/// The run the sampling-uniformity tests draw from: two shards holding 100 transitions split 30/70, shard 0 (even
/// sequences) ids 0..29 and shard 1 (odd) ids 100..169; and the check that draws from it were uniform.
/// </summary>
internal static class UnequalFillRun
{
    public const int Transitions = 100;

    public static async Task<ShardedReplay> OpenAsync(IReadOnlyList<RedisServer> twoServers)
    {
        var replay = await TestRuns.OpenAsync(twoServers, TestRuns.NewRunId(), capacity: 1000);
        await replay.InsertAsync("w", 0, TestRuns.Records(30, 0), 30, CancellationToken.None);
        await replay.InsertAsync("w", 1, TestRuns.Records(70, 100), 70, CancellationToken.None);
        return replay;
    }

    /// <summary>A transition's place among the 100 (ids 0..29, then 100..169): the index of its count.</summary>
    public static int Cell(int id) => id < 100 ? id : id - 70;

    /// <summary>
    /// Every one of the 100 transitions was drawn about equally often, so the shards 30/70 (chi-square tests at
    /// p = 0.001 over the transitions and over the shards).
    /// </summary>
    public static void AssertUniform(long[] counts)
    {
        Assert.Equal(Transitions, counts.Length);
        double n = counts.Sum();
        var perCell = Enumerable.Repeat(n / Transitions, Transitions).ToArray();
        double slotChi = ChiSquare.Statistic(counts, perCell);
        Assert.True(slotChi < ChiSquare.Critical(Transitions - 1, 0.001), $"chi-square over 100 transitions {slotChi:F1}");
        long[] perShard = [counts[..30].Sum(), counts[30..].Sum()];
        double shardChi = ChiSquare.Statistic(perShard, [n * 0.3, n * 0.7]);
        Assert.True(shardChi < ChiSquare.Critical(1, 0.001), $"chi-square over shards {shardChi:F2} ({perShard[0]} vs {perShard[1]})");
    }
}
