using DistSac.Replay;

namespace DistSac.Gateway;

/// <summary>
/// Transitions stored run-wide, for the rate limiter and the acknowledgements, readable while one shard is down: an
/// unreachable shard other than 0 counts with the last total read from it (0 if never read), so pushes into the healthy
/// shards go on. Shard 0 unreachable still fails the read (the run's metadata and learner progress live there).
/// </summary>
public sealed class ShardTotals(ShardedReplay replay)
{
    private readonly long[] _last = new long[replay.ShardCount];

    public async Task<long> ReadAsync(CancellationToken ct)
    {
        var reads = new Task<ShardStats>[_last.Length];
        for (int i = 0; i < reads.Length; i++)
            reads[i] = replay.ReadShardStatsAsync(i, ct);
        long total = 0;
        for (int i = 0; i < reads.Length; i++)
        {
            try
            {
                long shardTotal = (await reads[i].ConfigureAwait(false)).TotalInserted;
                Volatile.Write(ref _last[i], shardTotal);
                total += shardTotal;
            }
            catch (Exception e) when (i > 0 && RedisFailure.IsTransient(e))
            {
                total += Volatile.Read(ref _last[i]);
            }
        }
        return total;
    }
}
