using System.Globalization;
using DistSac.Replay;
using DistSac.Worker;
using Prometheus;

namespace DistSac.Gateway.Tests;

/// <summary>What the shard-outage tests read while a shard is down: per-shard counts, the worker's acknowledged count, waits.</summary>
internal static class ShardOutageProbe
{
    /// <summary>The worker's count per shard from the two shards' per-worker hashes; a shard that is down reads -1.</summary>
    public static async Task<long[]> PerShardAsync(GatewayTestbed bed, string workerId)
    {
        var counts = new long[2];
        for (int shard = 0; shard < 2; shard++)
        {
            try
            {
                counts[shard] = await bed.Learner.ReadShardWorkerTransitionsAsync(shard, workerId, CancellationToken.None);
            }
            catch (ReplayUnavailableException)
            {
                counts[shard] = -1;
            }
        }
        return counts;
    }

    /// <summary>Transitions the worker counts as acknowledged (its distsac_transitions_pushed_total).</summary>
    public static async Task<long> AcknowledgedAsync(RolloutWorker worker)
    {
        using var text = new MemoryStream();
        await worker.Metrics.Registry.CollectAndExportAsTextAsync(text);
        foreach (var line in System.Text.Encoding.UTF8.GetString(text.ToArray()).Split('\n'))
        {
            if (line.StartsWith("distsac_transitions_pushed_total ", StringComparison.Ordinal))
                return (long)double.Parse(line.AsSpan("distsac_transitions_pushed_total ".Length), CultureInfo.InvariantCulture);
        }
        return 0;
    }
}
