using DistSac.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using DistSac.Testing;

namespace DistSac.Worker.Tests;

/// <summary>Failures between worker and gateway: nothing stepped is lost or stored twice, and bugs stop the worker.</summary>
public class WorkerResilienceTests
{
    private static readonly TransitionRecord Layout = new(3, 1);

    /// <summary>A worker with these options, run until it ends (MaxSteps, a fatal error) or <paramref name="ct"/> stops it.</summary>
    private static Task<WorkerResult> RunWorkerAsync(WorkerOptions options, CancellationToken ct = default) =>
        new RolloutWorker(options, NullLoggerFactory.Instance).RunAsync(ct);

    [Fact]
    public async Task FailedPushes_AreRetriedWithTheSameSequenceAndBytes()
    {
        var gateway = new TestGateway { FailPushes = 3 };
        await using var server = await GatewayServer.StartNewAsync(gateway);

        var result = await RunWorkerAsync(WorkerGatewayTests.Options(server, maxSteps: 200));

        var attempts = gateway.Attempts;
        var first = attempts.Where(a => a.Sequence == 0).ToList();
        Assert.Equal(4, first.Count); // three failures, then stored
        Assert.All(first, a => Assert.Equal(first[0].Records, a.Records));
        Assert.Equal(3, result.Retries);
        Assert.Equal(200, gateway.StoredTransitions);
        Assert.Equal(Enumerable.Range(0, gateway.Stored.Count).Select(i => (long)i), gateway.Stored.Select(s => s.Key));
    }

    [Fact]
    public async Task RunNotCreatedYet_IsWaitedFor_NotFatal()
    {
        var gateway = new TestGateway { RunMissingFor = 3 };
        await using var server = await GatewayServer.StartNewAsync(gateway);

        var result = await RunWorkerAsync(WorkerGatewayTests.Options(server, maxSteps: 100));

        Assert.Equal(4, gateway.GetRunInfoCalls);
        Assert.Equal(100, result.AcknowledgedTransitions);
    }

    [Fact]
    public async Task DnsAddress_WithClientSideRoundRobin_ReachesTheGateway()
    {
        var gateway = new TestGateway();
        await using var server = await GatewayServer.StartNewAsync(gateway);
        // localhost resolves to 127.0.0.1 (served) and possibly ::1 (refused): round-robin uses the ready address.
        var options = WorkerGatewayTests.Options(server, maxSteps: 100) with { Gateway = $"dns:///localhost:{server.Port}" };

        var result = await RunWorkerAsync(options);

        Assert.Equal(100, result.AcknowledgedTransitions);
        Assert.Equal(100, gateway.StoredTransitions);
    }

    [Fact]
    public async Task LostAcknowledgement_IsRetried_AndStoredOnlyOnce()
    {
        var gateway = new TestGateway { LoseAcknowledgements = 2 };
        await using var server = await GatewayServer.StartNewAsync(gateway);

        var result = await RunWorkerAsync(WorkerGatewayTests.Options(server, maxSteps: 200));

        Assert.Equal(3, gateway.Attempts.Count(a => a.Sequence == 0));
        Assert.Equal(1, result.Duplicates);
        Assert.Equal(200, gateway.StoredTransitions);
        Assert.Equal(200, result.AcknowledgedTransitions);
    }

    [Fact]
    public async Task GatewayRestart_IsSurvived_WithContiguousSequencesAndNothingLost()
    {
        var gateway = new TestGateway();
        await using var server = await GatewayServer.StartNewAsync(gateway);
        using var stop = new CancellationTokenSource();
        var running = RunWorkerAsync(WorkerGatewayTests.Options(server), stop.Token);

        await Eventually.TrueAsync(() => gateway.Stored.Count >= 5, "a few batches before the outage");
        await server.StopAsync();
        int attemptsAtOutage = gateway.Attempts.Count;
        await Task.Delay(700);
        await server.StartAsync();
        await Eventually.TrueAsync(() => gateway.Attempts.Count > attemptsAtOutage + 5, "pushes after the gateway came back");
        await stop.CancelAsync();
        var result = await running;

        var stored = gateway.Stored;
        Assert.Equal(Enumerable.Range(0, stored.Count).Select(i => (long)i), stored.Select(s => s.Key));
        Assert.True(result.Retries > 0, "The outage should have cost at least one retry.");
        Assert.Equal(result.EnvSteps, gateway.StoredTransitions);
        Assert.Equal(0, result.UnacknowledgedTransitions);
    }

    [Fact]
    public async Task WorkerStartedBeforeTheGateway_WaitsForIt()
    {
        var gateway = new TestGateway();
        await using var server = await GatewayServer.StartNewAsync(gateway);
        await server.StopAsync(); // keep the port, take the gateway away

        var running = RunWorkerAsync(WorkerGatewayTests.Options(server, maxSteps: 100));
        await Task.Delay(400);
        await server.StartAsync();
        var result = await running;

        Assert.Equal(100, result.EnvSteps);
        Assert.Equal(100, gateway.StoredTransitions);
    }

    [Fact]
    public async Task Cancellation_FlushesTheLastPartialBatch()
    {
        var gateway = new TestGateway();
        await using var server = await GatewayServer.StartNewAsync(gateway);
        // M and T far away and 4 ms per step (2 envs: 4,000 transitions take 8 s, far longer than the wait below even on a
        // fast machine; 1 ms per step once filled the batch before the stop): nothing is pushed until the stop, which must push it all.
        var options = WorkerGatewayTests.Options(server, envs: 2, batch: 4000) with { FlushIntervalMs = 600_000, SimulatedStepCostMicroseconds = 2000 };
        using var stop = new CancellationTokenSource();
        var running = RunWorkerAsync(options, stop.Token);

        await Eventually.TrueAsync(() => gateway.WatchCalls > 0, "the worker to join the run");
        await Task.Delay(500);
        Assert.Empty(gateway.Attempts);
        await stop.CancelAsync();
        var result = await running;

        Assert.True(result.EnvSteps > 0);
        var batch = Assert.Single(gateway.Stored);
        Assert.Equal(0, batch.Key);
        Assert.Equal(result.EnvSteps, batch.Value.Length / Layout.RecordBytes);
    }

    [Fact]
    public async Task InvalidArgument_StopsTheWorkerWithTheGatewaysMessage()
    {
        var gateway = new TestGateway { RejectWith = "record 3 has a non-finite value" };
        await using var server = await GatewayServer.StartNewAsync(gateway);

        var error = await Assert.ThrowsAsync<WorkerFatalException>(
            () => RunWorkerAsync(WorkerGatewayTests.Options(server)));

        Assert.Contains("InvalidArgument", error.Message, StringComparison.Ordinal);
        Assert.Contains("record 3 has a non-finite value", error.Message, StringComparison.Ordinal);
        Assert.Single(gateway.Attempts); // not retried
    }

    [Fact]
    public async Task UnreachableGatewayAtShutdown_GivesUpAfterTheFlushBound()
    {
        var gateway = new TestGateway();
        await using var server = await GatewayServer.StartNewAsync(gateway);
        var options = WorkerGatewayTests.Options(server) with { ShutdownFlushTimeoutMs = 300 };
        using var stop = new CancellationTokenSource();
        var running = RunWorkerAsync(options, stop.Token);
        await Eventually.TrueAsync(() => gateway.Stored.Count >= 2, "a few batches");

        await server.StopAsync();
        await stop.CancelAsync();
        var result = await running.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(result.UnacknowledgedTransitions > 0);
        // A push in flight at the outage may have been stored with its acknowledgement lost, never the reverse.
        Assert.True(gateway.StoredTransitions >= result.AcknowledgedTransitions);
    }
}
