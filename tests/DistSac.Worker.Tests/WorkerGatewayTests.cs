using DistSac.Envs;
using DistSac.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using DistSac.Testing;

namespace DistSac.Worker.Tests;

/// <summary>A worker against a real Kestrel gRPC gateway: what it pushes, in which order, chosen by which actor.</summary>
public class WorkerGatewayTests
{
    private static readonly TransitionRecord Layout = new(3, 1);
    private static readonly EnvSpec Pendulum = EnvironmentRegistry.GetSpec("Pendulum-v1");

    internal static WorkerOptions Options(GatewayServer server, int envs = 4, int batch = 16, long maxSteps = 0) => new()
    {
        Gateway = server.Address,
        WorkerId = "test-worker",
        Envs = envs,
        BatchTransitions = batch,
        FlushIntervalMs = 50,
        MaxSteps = maxSteps,
        PushTimeoutMs = 5_000,
        ShutdownFlushTimeoutMs = 5_000,
        ProgressIntervalSeconds = 60,
    };

    [Fact]
    public async Task Worker_PushesWholeVectorSteps_WithSequencesFromZero()
    {
        await using var server = await GatewayServer.StartNewAsync(new TestGateway());

        var result = await new RolloutWorker(Options(server, envs: 4, batch: 16, maxSteps: 400), NullLoggerFactory.Instance).RunAsync(CancellationToken.None);

        var stored = server.Gateway.Stored;
        Assert.Equal(Enumerable.Range(0, stored.Count).Select(i => (long)i), stored.Select(s => s.Key));
        Assert.Equal(400, result.EnvSteps);
        Assert.Equal(400, server.Gateway.StoredTransitions);
        Assert.Equal(400, result.AcknowledgedTransitions);
        Assert.All(server.Gateway.Attempts, a =>
        {
            Assert.Equal("test-worker", a.WorkerId);
            Assert.Equal(a.TransitionCount * Layout.RecordBytes, a.Records.Length);
            Assert.Equal(0, a.TransitionCount % 4);
            Assert.Null(Layout.Validate(a.Records, a.TransitionCount));
        });
    }

    [Fact]
    public async Task PushedRecords_ChainObservationsAcrossBatches()
    {
        await using var server = await GatewayServer.StartNewAsync(new TestGateway());

        await new RolloutWorker(Options(server, envs: 2, batch: 6, maxSteps: 300), NullLoggerFactory.Instance).RunAsync(CancellationToken.None);

        var records = Decoded.All(server.Gateway.Stored.Select(s => s.Value), Layout);
        Assert.Equal(300, records.Count);
        for (int i = 2; i < records.Count; i++)
        {
            int step = i / 2;
            if (step % Pendulum.MaxEpisodeSteps != 0)
            {
                Assert.Equal(records[i - 2].NextObs, records[i].Obs);
            }
        }
    }

    [Fact]
    public async Task Worker_ActsRandomlyDuringWarmup_ThenWithTheStreamedVersion()
    {
        var gateway = new TestGateway(warmupTransitions: 200);
        gateway.PublishWeights(7, RandomActor.Create(Pendulum, [16, 16], seed: 1, version: 3).ToBytes());
        await using var server = await GatewayServer.StartNewAsync(gateway);

        using var stop = new CancellationTokenSource();
        var running = new RolloutWorker(Options(server, envs: 4, batch: 16), NullLoggerFactory.Instance).RunAsync(stop.Token);
        await Eventually.TrueAsync(() => LastVersion(gateway) == 7, "records chosen by version 7");
        await stop.CancelAsync();
        await running;

        var versions = Decoded.All(gateway.Stored.Select(s => s.Value), Layout).Select(r => r.Version).ToList();
        Assert.All(versions.Take(200), v => Assert.Equal(-1, v));
        Assert.All(versions, v => Assert.Contains(v, new[] { -1, 7 })); // the stream's version, not the file's 3
        int firstActor = versions.IndexOf(7);
        Assert.True(firstActor >= 200, $"The actor acted at transition {firstActor}, before the 200-transition warm-up.");
        Assert.All(versions.Skip(firstActor), v => Assert.Equal(7, v));
    }

    [Fact]
    public async Task CorruptWeightsUpdate_IsIgnored_AndTheOldActorKeepsActing()
    {
        var gateway = new TestGateway();
        gateway.PublishWeights(1, RandomActor.Create(Pendulum, [16, 16], seed: 1).ToBytes());
        await using var server = await GatewayServer.StartNewAsync(gateway);
        var logs = new CapturedLogs();
        using var loggers = logs.CreateFactory();
        using var stop = new CancellationTokenSource();
        var running = new RolloutWorker(Options(server), loggers).RunAsync(stop.Token);

        await Eventually.TrueAsync(() => LastVersion(gateway) == 1, "records chosen by version 1");
        byte[] corrupt = RandomActor.Create(Pendulum, [16, 16], seed: 2).ToBytes();
        corrupt[corrupt.Length / 2] ^= 0x40;
        gateway.PublishWeights(2, corrupt);
        await Eventually.TrueAsync(() => logs.Lines.Any(l => l.Message.Contains("Ignoring weights version 2", StringComparison.Ordinal)), "the corrupt update to be logged");
        long storedAfterRejection = gateway.StoredTransitions;
        await Eventually.TrueAsync(() => gateway.StoredTransitions > storedAfterRejection + 100, "more transitions after the rejection");
        int versionAfterRejection = LastVersion(gateway);
        gateway.PublishWeights(3, RandomActor.Create(Pendulum, [16, 16], seed: 3).ToBytes());
        await Eventually.TrueAsync(() => LastVersion(gateway) == 3, "records chosen by version 3");
        await stop.CancelAsync();
        var result = await running;

        Assert.Equal(1, versionAfterRejection);
        Assert.Equal(1, result.RejectedWeightUpdates);
        Assert.Equal(3, result.WeightsVersion);
        Assert.DoesNotContain(2, Decoded.All(gateway.Stored.Select(s => s.Value), Layout).Select(r => r.Version));
    }

    [Fact]
    public async Task RecordSizeMismatch_IsFatal()
    {
        var gateway = new TestGateway();
        gateway.RunInfo.RecordBytes += 4;
        await using var server = await GatewayServer.StartNewAsync(gateway);

        var error = await Assert.ThrowsAsync<WorkerFatalException>(
            () => new RolloutWorker(Options(server, maxSteps: 100), NullLoggerFactory.Instance).RunAsync(CancellationToken.None));

        Assert.Contains("40-byte records", error.Message, StringComparison.Ordinal);
        Assert.Empty(gateway.Attempts);
    }

    private static int LastVersion(TestGateway gateway)
    {
        var stored = gateway.Stored;
        return stored.Count == 0 ? int.MinValue : Layout.PolicyVersion(stored[^1].Value.AsSpan(stored[^1].Value.Length - Layout.RecordBytes));
    }
}
