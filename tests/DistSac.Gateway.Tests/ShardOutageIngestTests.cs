using System.Globalization;
using DistSac.Testing;
using DistSac.Worker;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

using static DistSac.Gateway.Tests.ShardOutageProbe;

namespace DistSac.Gateway.Tests;

/// <summary>
/// One shard of two killed under a running worker (real Redis with AOF, real gateway, real worker): ingest goes on into
/// the healthy shard, the killed one is used again once it is back on its port and data, and Redis holds every
/// acknowledged transition exactly once.
/// </summary>
public sealed class ShardOutageIngestTests
{
    private const string WorkerId = "worker-s";

    [Fact]
    public async Task While_shard_1_is_down_the_worker_keeps_pushing_into_shard_0_and_every_acknowledged_transition_is_stored_once()
    {
        string aof = Directory.CreateTempSubdirectory("distsac-shard1-aof-").FullName;
        RedisServer? b = null;
        try
        {
            await using var a = await RedisServer.StartAsync();
            b = await RedisServer.StartAsync(appendOnlyDirectory: aof);
            int bPort = b.Port;
            await using var bed = await GatewayTestbed.StartAsync(a, shards: [a, b]);
            var worker = new RolloutWorker(new WorkerOptions
            {
                Gateway = bed.Gateway.Address.ToString(),
                WorkerId = WorkerId,
                Envs = 2,
                BatchTransitions = 8,
                FlushIntervalMs = 20,
                PushTimeoutMs = 10_000,
                ShutdownFlushTimeoutMs = 10_000,
                ProgressIntervalSeconds = 60,
                SimulatedStepCostMicroseconds = 2_000, // about 1,000 transitions/s: enough traffic, little CPU
                SimulatedStepCostMode = SimulatedCostMode.Sleep,
            }, NullLoggerFactory.Instance);
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            var running = worker.RunAsync(stop.Token);

            await Eventually.TrueAsync(async () => (await PerShardAsync(bed, WorkerId))[1] > 0 && (await PerShardAsync(bed, WorkerId))[0] > 0, "both shards to receive pushes", seconds: 45);
            await b.KillAsync();
            await b.DisposeAsync(); // keeps the AOF folder
            long shard0AtKill = (await PerShardAsync(bed, WorkerId))[0];
            long ackedAtKill = await AcknowledgedAsync(worker);
            await Eventually.TrueAsync(async () => await AcknowledgedAsync(worker) >= ackedAtKill + 300, "300 more acknowledged transitions while shard 1 is down", seconds: 45);
            long shard0Grew = (await PerShardAsync(bed, WorkerId))[0] - shard0AtKill;

            b = await RedisServer.StartAsync(port: bPort, appendOnlyDirectory: aof);
            long shard1Back = await Shard1AfterRestartAsync(bed);
            await Eventually.TrueAsync(async () => (await PerShardAsync(bed, WorkerId))[1] >= shard1Back + 100, "shard 1 to take pushes again", seconds: 45);
            await stop.CancelAsync();
            var result = await running;

            var stored = await bed.Learner.ReadWorkerTransitionsAsync(CancellationToken.None);
            var stats = await bed.Learner.ReadStatsAsync(CancellationToken.None);
            // What was acknowledged during the outage is in shard 0, give or take the two batches (9 transitions at
            // most each) that may have been stored before the first read and acknowledged after the second.
            Assert.True(shard0Grew >= 300 - 2 * 9, $"shard 0 stored {shard0Grew} transitions while shard 1 was down");
            Assert.Equal(0, result.UnacknowledgedTransitions);
            Assert.Equal(result.AcknowledgedTransitions, stored[WorkerId]); // every acknowledged transition, exactly once
            Assert.Equal(result.AcknowledgedTransitions, stats.TotalInserted);
            Assert.Equal(0, result.UnexpectedDuplicates);
        }
        finally
        {
            if (b is not null) await b.DisposeAsync();
            Directory.Delete(aof, recursive: true);
        }
    }

    /// <summary>Shard 1's count once its AOF is loaded and the test's connection is back.</summary>
    private static async Task<long> Shard1AfterRestartAsync(GatewayTestbed bed)
    {
        long count = -1;
        await Eventually.TrueAsync(async () => (count = (await PerShardAsync(bed, WorkerId))[1]) >= 0, "shard 1 to answer again", seconds: 45);
        return count;
    }
}
