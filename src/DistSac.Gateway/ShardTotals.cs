using DistSac.Replay;

namespace DistSac.Gateway;

/// <summary>
/// Transitions stored run-wide, for the rate limiter and the acknowledgements, readable while shards are down: an
/// unreachable shard (any, shard 0 too: every shard holds a copy of the run state) counts with the last total read from
/// it (0 if never read), so pushes into the healthy shards go on. Only no shard answering fails the read.
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
        Exception? firstDown = null;
        bool anyAnswered = false;
        for (int i = 0; i < reads.Length; i++)
        {
            try
            {
                long shardTotal = (await reads[i].ConfigureAwait(false)).TotalInserted;
                Volatile.Write(ref _last[i], shardTotal);
                total += shardTotal;
                anyAnswered = true;
            }
            catch (Exception e) when (RedisFailure.IsTransient(e))
            {
                firstDown ??= e;
                total += Volatile.Read(ref _last[i]);
            }
        }
        if (!anyAnswered) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(firstDown!);
        return total;
    }
}
