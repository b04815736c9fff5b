using System.Globalization;
using DistSac.Envs;
using DistSac.Protocol.V1;
using DistSac.Replay;
using DistSac.Testing;
using DistSac.Worker;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;
using StackExchange.Redis;

using static DistSac.Gateway.Tests.ShardOutageProbe;

namespace DistSac.Gateway.Tests;

/// <summary>
/// Shard 0 of two SIGKILLed under a running gateway, a real worker and a learner (the test's own, writing the run state
/// the way DistributedLearner does, under a rate-limit contract, so pushes need its progress): shard 0 holds nothing
/// the run cannot do without. Pushes keep being acknowledged into shard 1, the learner's progress and weights move on
/// (seen on shard 1 and on a WatchWeights stream), a new worker registers and pushes, /readyz stays 200; after shard 0
/// is back (from its AOF, or empty) it gets the run state again, takes pushes again, and Redis holds what was acknowledged.
/// </summary>
public sealed class Shard0OutageTests
{
    private const string WorkerId = "worker-s0";
    private const int MaxBatch = 9; // BatchTransitions 8, plus one more when an episode ends (as in ShardOutageIngestTests)

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task While_shard_0_is_down_pushes_weights_progress_and_registration_go_on_through_shard_1(bool appendOnly)
    {
        string? aof = appendOnly ? Directory.CreateTempSubdirectory("distsac-shard0-aof-").FullName : null;
        RedisServer? shard0 = null;
        try
        {
            shard0 = await RedisServer.StartAsync(appendOnlyDirectory: aof);
            int port0 = shard0.Port;
            await using var shard1 = await RedisServer.StartAsync();
            // The learner may run 400 updates behind the pushes: the gateway must keep reading its progress to admit them.
            var contract = new RateLimitContract(UpdatesPerTransition: 1.0, Tolerance: 400, MinTransitions: 0);
            await using var bed = await GatewayTestbed.StartAsync(shard0, new GatewayOptions { HttpListen = "http://127.0.0.1:0" },
                shards: [shard0, shard1], rateLimit: contract);
            await using var shard1Direct = await ConnectionMultiplexer.ConnectAsync(shard1.Endpoint);
            using var http = new HttpClient { BaseAddress = bed.Gateway.HttpAddress };
            using var stopLearner = new CancellationTokenSource(TimeSpan.FromSeconds(150));
            using var stopWorker = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            var learner = RunLearnerAsync(bed, stopLearner.Token);
            var watched = new List<long>();
            var watching = WatchAsync(bed, watched, stopLearner.Token);
            var worker = new RolloutWorker(WorkerOptions(bed), NullLoggerFactory.Instance);
            var running = worker.RunAsync(stopWorker.Token);

            await Eventually.TrueAsync(async () => (await PerShardAsync(bed, WorkerId))[0] > 0 && (await PerShardAsync(bed, WorkerId))[1] > 0, "both shards to receive pushes", seconds: 45);
            long lostIfEmpty = (await PerShardAsync(bed, WorkerId))[0];
            await shard0.KillAsync();
            await shard0.DisposeAsync(); // keeps the AOF folder
            long ackedAtKill = await AcknowledgedAsync(worker);
            long versionAtKill = await Shard1VersionAsync(shard1Direct, bed);
            await Eventually.TrueAsync(async () => await AcknowledgedAsync(worker) >= ackedAtKill + 300, "300 more acknowledged transitions while shard 0 is down", seconds: 45);
            await Eventually.TrueAsync(async () => await Shard1VersionAsync(shard1Direct, bed) >= versionAtKill + 5, "the learner's progress to move on in shard 1", seconds: 45);
            await Eventually.TrueAsync(() => Task.FromResult(Last(watched) > versionAtKill), "a newer weights version on the WatchWeights stream", seconds: 45);
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
            var newcomer = await bed.RegisterAsync("worker-new"); // GetRunInfo while shard 0 is down
            var ack = await bed.Client.PushAsync(GatewayTestbed.PushToShard("worker-new", 1, 0, GatewayTestbed.Records(3), newcomer.Incarnation));
            Assert.Equal(3, ack.Stored);

            shard0 = await RedisServer.StartAsync(port: port0, appendOnlyDirectory: aof);
            long versionAtRestart = await Shard1VersionAsync(shard1Direct, bed);
            await using var shard0Direct = await ConnectionMultiplexer.ConnectAsync(shard0.Endpoint);
            var db0 = shard0Direct.GetDatabase();
            await Eventually.TrueAsync(async () => (long)await db0.HashGetAsync(RunKeys.Weights(bed.Replay.RunId), "version") > versionAtRestart
                                    && await db0.KeyExistsAsync(RunKeys.Meta(bed.Replay.RunId)), "the learner to write the run state to shard 0 again", seconds: 45);
            long shard0Back = -1;
            await Eventually.TrueAsync(async () => (shard0Back = (await PerShardAsync(bed, WorkerId))[0]) >= 0, "shard 0 to answer the test again", seconds: 45);
            await Eventually.TrueAsync(async () => (await PerShardAsync(bed, WorkerId))[0] >= shard0Back + 50, "shard 0 to take pushes again", seconds: 45);
            await stopWorker.CancelAsync(); // the learner goes on while the worker flushes: its last pushes need its progress
            var result = await running;
            await stopLearner.CancelAsync();
            await learner;
            await watching;

            long stored = (await bed.Learner.ReadWorkerTransitionsAsync(CancellationToken.None))[WorkerId];
            Assert.Equal(0, result.UnacknowledgedTransitions);
            Assert.Equal(0, result.UnexpectedDuplicates);
            if (appendOnly)
                Assert.Equal(result.AcknowledgedTransitions, stored); // every acknowledged transition, exactly once
            else // shard 0's ring was lost with it: what it held at the kill, and what landed between that reading and the kill
                Assert.InRange(result.AcknowledgedTransitions - stored, lostIfEmpty, lostIfEmpty + 2 * MaxBatch);
            lock (watched)
            {
                for (int i = 1; i < watched.Count; i++)
                    Assert.True(watched[i] > watched[i - 1], $"weights version {watched[i]} after {watched[i - 1]} on the stream");
            }
        }
        finally
        {
            if (shard0 is not null) await shard0.DisposeAsync();
            if (aof is not null) Directory.Delete(aof, recursive: true);
        }
    }

    private static WorkerOptions WorkerOptions(GatewayTestbed bed) => new()
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
    };

    /// <summary>
    /// The learner's side of the run state, as DistributedLearner writes it: every 50 ms 100 more updates, a new weights
    /// version and its progress; once a second, the run state written again to a shard that came back empty or stale.
    /// </summary>
    private static async Task RunLearnerAsync(GatewayTestbed bed, CancellationToken ct)
    {
        var pendulum = EnvironmentRegistry.GetSpec("Pendulum-v1");
        try
        {
            for (long version = 1; !ct.IsCancellationRequested; version++)
            {
                try
                {
                    if (version % 20 == 0 && (await bed.Learner.ShardsNeedingRunStateAsync(ct)).Any)
                        await bed.Learner.InitializeRunAsync(bed.Metadata, ct);
                    await bed.Learner.PublishWeightsAsync(version, RandomActor.Create(pendulum, [16, 16], seed: 4, version: version).ToBytes(), ct);
                    await bed.Learner.PublishLearnerProgressAsync(updates: version * 100, weightsVersion: version, ct);
                }
                catch (ReplayUnavailableException)
                {
                    // Every shard down at once: not this test's fault; the next tick tries again.
                }
                await Task.Delay(50, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>A worker's view of the weights: every version the gateway streams, in order.</summary>
    private static async Task WatchAsync(GatewayTestbed bed, List<long> versions, CancellationToken ct)
    {
        try
        {
            using var call = bed.Client.WatchWeights(new WatchWeightsRequest { WorkerId = "watcher", KnownVersion = -1 }, cancellationToken: ct);
            while (await call.ResponseStream.MoveNext(ct))
            {
                lock (versions) versions.Add(call.ResponseStream.Current.Version);
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled)
        {
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static long Last(List<long> versions)
    {
        lock (versions) return versions.Count == 0 ? -1 : versions[^1];
    }

    private static async Task<long> Shard1VersionAsync(ConnectionMultiplexer shard1, GatewayTestbed bed)
    {
        var version = await shard1.GetDatabase().HashGetAsync(RunKeys.Learner(bed.Replay.RunId), "version");
        return version.IsNull ? -1 : (long)version;
    }
}
