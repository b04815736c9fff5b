using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DistSac.Cli.Local;
using DistSac.Protocol;
using DistSac.Protocol.V1;
using DistSac.Replay;
using DistSac.Worker;
using Google.Protobuf;
using Grpc.Core;

namespace DistSac.Cli.Commands;

/// <summary>
/// `distsac bench gateway-idle`: what a gateway (its own `distsac replay` process, CPU from /proc) costs while the rate
/// limiter holds every push and the learner is idle, and while it ingests a paced ~1k transitions/s with this process
/// playing a learner that publishes its progress every 25 ms (a learner at ~1k updates/s publishing every 25 updates).
/// </summary>
public static partial class DistributedBenchCommand
{
    private static Command GatewayIdle()
    {
        var clients = Opt("--clients", 8, "Concurrent gRPC clients, each a worker id with one push at a time.");
        var seconds = Opt("--seconds", 10.0, "Timed duration of each of the two phases.");
        var rate = Opt("--rate", 1000.0, "Transitions/s offered in the ingest phase, over all clients.");
        var batch = Opt("--batch", 50, "Transitions per push.");
        var command = new Command("gateway-idle", "Gateway CPU (cores) with every push held and the learner idle, then while ingesting ~1k transitions/s.")
        {
            clients, seconds, rate, batch,
        };
        command.SetAction(async (parse, ct) =>
        {
            int n = Positive(parse.GetValue(clients), "--clients"), b = parse.GetValue(batch);
            if (b < 1 || b > ProtocolLimits.MaxBatchTransitions) throw new ArgumentException($"--batch must be in [1, {ProtocolLimits.MaxBatchTransitions}] (got {b}).");
            double offered = parse.GetValue(rate);
            if (!(offered > 0) || double.IsInfinity(offered)) throw new ArgumentException($"--rate must be > 0 (got {offered}).");
            var duration = Seconds(parse.GetValue(seconds), "--seconds");
            var self = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find the distsac executable's path.");

            await using var redis = new RedisLauncher();
            var servers = await redis.StartAsync(1, ct);
            // This connection plays the learner: it creates the run and, in the ingest phase, publishes progress.
            await using var learner = await CreateRunAsync("bench-idle", servers, 1_000_000, ct);
            using var spawner = new ProcessSpawner();
            int port = FreeLoopbackPort();
            var env = new Dictionary<string, string>
            {
                ["DISTSAC_REPLAY__RUNID"] = learner.Options.RunId,
                ["DISTSAC_REPLAY__SHARDS__0"] = servers[0].Endpoint,
                ["DISTSAC_REPLAY__CAPACITYPERSHARD"] = "1000000",
                ["DISTSAC_GATEWAY__LISTEN"] = $"http://127.0.0.1:{port}",
                // Ratio 1, no free allowance, tolerance 1: with no learner progress every push after the first is held.
                ["DISTSAC_GATEWAY__RATELIMIT"] = "1",
                ["DISTSAC_GATEWAY__RATELIMITMINTRANSITIONS"] = "0",
                ["DISTSAC_GATEWAY__RATELIMITTOLERANCE"] = "1",
                ["DISTSAC_GATEWAY__STATUSLOGINTERVALMS"] = "0",
            };
            var log = Path.Combine(Path.GetTempPath(), $"distsac-bench-idle-{learner.Options.RunId}.log");
            await using var gateway = await spawner.StartAsync("gateway", self, ["replay"], env, log, (_, _) => { });
            var address = new Uri($"http://127.0.0.1:{port}");
            var records = UnsafeByteOperations.UnsafeWrap(ReplayBenchmarks.RandomRecords(learner.Metadata!, b, seed: 5));
            var interval = TimeSpan.FromSeconds(n * b / offered);
            var counters = new PushCounters();
            using var stop = new CancellationTokenSource();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, stop.Token);
            string tag = Guid.NewGuid().ToString("N")[..8];
            var loops = new Task[n];
            for (int i = 0; i < n; i++)
            {
                string workerId = $"idle-{tag}-{i}";
                loops[i] = Task.Run(() => PacedPushLoopAsync(address, workerId, records, interval, counters, linked.Token), ct);
            }
            try
            {
                // Ingest first, so the gateway's JIT has settled before the held phase measures what idling costs.
                Say($"gateway-idle: {n} clients -> gateway pid {gateway.Pid}; phase 1: ~{offered:F0} transitions/s offered, learner progress every 25 ms");
                using var learnerStop = CancellationTokenSource.CreateLinkedTokenSource(linked.Token);
                var publishing = Task.Run(() => PlayLearnerAsync(learner, counters, learnerStop.Token), ct);
                await Task.Delay(TimeSpan.FromSeconds(3), ct);
                long acked0 = Interlocked.Read(ref counters.Acked);
                var ingest = new GatewayCpuMeter(gateway.Pid, servers[0].Pid);
                await Task.Delay(duration, ct);
                var ingestCpu = ingest.Stop();
                double ingested = (Interlocked.Read(ref counters.Acked) - acked0) / ingestCpu.WallSeconds;

                Say("gateway-idle: phase 2: the learner stops publishing; every push is held");
                await learnerStop.CancelAsync();
                await publishing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                await Task.Delay(TimeSpan.FromSeconds(2), ct); // the learner's last allowance is used up, the rest held
                long pushes0 = Interlocked.Read(ref counters.Pushes);
                var held = new GatewayCpuMeter(gateway.Pid, servers[0].Pid);
                await Task.Delay(duration, ct);
                var heldCpu = held.Stop();
                long pushedWhileHeld = Interlocked.Read(ref counters.Pushes) - pushes0;

                Print(new
                {
                    Benchmark = "gateway-idle", Value = Round(heldCpu.Gateway), Unit = "cores",
                    HeldGatewayCpuCores = Round(heldCpu.Gateway), HeldRedisCpuCores = Round(heldCpu.Redis), HeldClients = n, PushesAnsweredWhileHeld = pushedWhileHeld,
                    IngestGatewayCpuCores = Round(ingestCpu.Gateway), IngestRedisCpuCores = Round(ingestCpu.Redis),
                    IngestTransitionsPerS = Math.Round(ingested, 1), OfferedTransitionsPerS = offered, Batch = b,
                    Seconds = duration.TotalSeconds, Cores = Environment.ProcessorCount, Date = Today(),
                });
                return 0;
            }
            finally
            {
                await stop.CancelAsync();
                foreach (var loop in loops) await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                await gateway.StopAsync(TimeSpan.FromSeconds(10));
                TryDeleteFile(log);
            }
        });
        return command;
    }

    /// <summary>One worker's pushes, one at a time, started no faster than every <paramref name="interval"/>; held pushes simply wait.</summary>
    private static async Task PacedPushLoopAsync(Uri address, string workerId, ByteString records, TimeSpan interval, PushCounters counters, CancellationToken ct)
    {
        using var channel = GatewayChannel.Create(address.ToString());
        var client = new ReplayGateway.ReplayGatewayClient(channel);
        RunInfo info;
        for (var tries = 0; ; tries++)
        {
            try
            {
                info = await client.GetRunInfoAsync(new GetRunInfoRequest { WorkerId = workerId }, cancellationToken: ct);
                break;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && tries < 100)
            {
                await Task.Delay(200, ct); // the gateway process is still starting
            }
        }
        int count = records.Length / info.RecordBytes;
        long next = Stopwatch.GetTimestamp();
        for (long sequence = 0; !ct.IsCancellationRequested; sequence++)
        {
            long now = Stopwatch.GetTimestamp();
            if (next > now) await Task.Delay(Stopwatch.GetElapsedTime(now, next), ct);
            else next = now; // after a hold: go on at the offered rate, do not catch up in a burst
            next += (long)(interval.TotalSeconds * Stopwatch.Frequency);
            var ack = await client.PushAsync(
                new PushRequest { WorkerId = workerId, Incarnation = info.Incarnation, Sequence = sequence, TransitionCount = count, Records = records },
                cancellationToken: ct);
            Interlocked.Add(ref counters.Acked, ack.Stored);
            Interlocked.Increment(ref counters.Pushes);
        }
    }

    /// <summary>Publishes "updates = transitions acknowledged so far" every 25 ms, as a learner keeping pace would.</summary>
    private static async Task PlayLearnerAsync(ShardedReplay learner, PushCounters counters, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(25));
        while (await timer.WaitForNextTickAsync(ct))
            await learner.PublishLearnerProgressAsync(Interlocked.Read(ref counters.Acked), 0, ct);
    }

    private readonly record struct ProcessCpu(double Gateway, double Redis, double WallSeconds);

    /// <summary>CPU cores of the gateway and redis-server processes from construction until <see cref="Stop"/>.</summary>
    private sealed class GatewayCpuMeter(int gatewayPid, int redisPid)
    {
        private readonly double _gateway0 = ProcessCpuTime.Seconds(gatewayPid), _redis0 = ProcessCpuTime.Seconds(redisPid);
        private readonly long _started = Stopwatch.GetTimestamp();

        public ProcessCpu Stop()
        {
            double wall = Stopwatch.GetElapsedTime(_started).TotalSeconds;
            return new ProcessCpu((ProcessCpuTime.Seconds(gatewayPid) - _gateway0) / wall, (ProcessCpuTime.Seconds(redisPid) - _redis0) / wall, wall);
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void TryDeleteFile(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
