using DistSac.Replay;

namespace DistSac.Gateway.Tests;

public sealed class InsertAdmissionTests
{
    // r = 1 update per transition, no warm-up, tolerance 1: a batch is admitted while inserted - updates <= 1.
    private static readonly RateLimitContract Contract = new(UpdatesPerTransition: 1, Tolerance: 1, MinTransitions: 0);
    private static readonly GatewayOptions Options = new() { ProgressReconcileMs = 1 };

    [Fact]
    public async Task WaitAsync_ABurstOfPushes_AdmitsOnlyWhatTheRatioAllows()
    {
        long updates = 0;
        using var monitor = new ReplayProgressMonitor(_ => Task.FromResult(new ReplayProgress(Interlocked.Read(ref updates), 0, 0, RateLimit: Contract)));
        using var counters = new GatewayCounters();
        var admission = new InsertAdmission(Options, monitor, counters);
        using var stop = new CancellationTokenSource();

        var pushes = new Task<Admission>[10];
        for (int i = 0; i < pushes.Length; i++) pushes[i] = admission.WaitAsync(1, stop.Token).AsTask();
        await GatewayWeightsTests.WaitUntilAsync(() => Count(pushes) == 2 && counters.Holding == 8);
        // In flight 0 -> admitted, 1 -> admitted, 2 -> 2 - 0 > 1 held: two of ten pass on the same stale reading.

        Interlocked.Exchange(ref updates, 3); // 2 in flight: 2 - 3 <= 1, 3 - 3, 4 - 3 admitted, 5 - 3 > 1 held
        await GatewayWeightsTests.WaitUntilAsync(() => Count(pushes) == 5 && counters.Holding == 5);
        await stop.CancelAsync();

        foreach (var p in pushes)
        {
            if (!p.IsCompletedSuccessfully) await Assert.ThrowsAnyAsync<OperationCanceledException>(() => p);
        }
        Assert.Equal(0, counters.Holding);
        Assert.Equal(8, counters.HeldPushes);
    }

    [Fact]
    public async Task WaitAsync_WithTheLearnersRatioZero_AdmitsEveryBatchAndReservesNothing()
    {
        using var monitor = new ReplayProgressMonitor(_ => Task.FromResult(new ReplayProgress(0, 0, 1_000_000, RateLimit: Contract with { UpdatesPerTransition = 0 })));
        using var counters = new GatewayCounters();
        var admission = new InsertAdmission(Options, monitor, counters);

        var admitted = await admission.WaitAsync(4096, CancellationToken.None);

        Assert.True(admitted.Admitted);
        Assert.Equal(0, admitted.Reserved);
        Assert.Equal(0, counters.HeldPushes);
    }

    [Fact]
    public async Task WaitAsync_FollowsTheContractOfTheLatestReading()
    {
        // 10 stored, 0 updates: debt 10 at r = 1 (held, tolerance 1), 2.5 at r = 0.25 (held), 0.5 at r = 0.05 (admitted).
        var contract = Contract;
        using var monitor = new ReplayProgressMonitor(_ => Task.FromResult(new ReplayProgress(0, 0, 10, RateLimit: Volatile.Read(ref contract))));
        using var counters = new GatewayCounters();
        var admission = new InsertAdmission(Options, monitor, counters);
        using var stop = new CancellationTokenSource();

        var push = admission.WaitAsync(1, stop.Token).AsTask();
        await GatewayWeightsTests.WaitUntilAsync(() => counters.Holding == 1);
        Volatile.Write(ref contract, Contract with { UpdatesPerTransition = 0.25 });
        long reads = monitor.Reads;
        await GatewayWeightsTests.WaitUntilAsync(() => monitor.Reads > reads + 2);
        Assert.False(push.IsCompleted);
        Volatile.Write(ref contract, Contract with { UpdatesPerTransition = 0.05 });

        var admitted = await push.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(admitted.Admitted);
        Assert.Equal(1, admitted.Reserved);
    }

    private static int Count(Task<Admission>[] pushes)
    {
        int n = 0;
        foreach (var p in pushes) if (p.IsCompletedSuccessfully && p.Result.Admitted) n++;
        return n;
    }
}
