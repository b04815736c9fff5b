namespace DistSac.Gateway.Tests;

public sealed class ReplayProgressMonitorTests
{
    [Fact]
    public async Task GetAsync_ManyConcurrentCallers_ShareOneRead()
    {
        var release = new TaskCompletionSource<ReplayProgress>(TaskCreationOptions.RunContinuationsAsynchronously);
        int reads = 0;
        using var monitor = new ReplayProgressMonitor(_ => { Interlocked.Increment(ref reads); return release.Task; });

        var callers = new Task<ReplayProgress>[50];
        for (int i = 0; i < callers.Length; i++) callers[i] = monitor.GetAsync(TimeSpan.FromMinutes(1), CancellationToken.None).AsTask();
        release.SetResult(new ReplayProgress(Updates: 7, WeightsVersion: 2, TotalInserted: 100));
        var results = await Task.WhenAll(callers);

        Assert.Equal(1, reads);
        Assert.All(results, r => Assert.Equal(new ReplayProgress(7, 2, 100), r));
    }

    [Fact]
    public async Task GetAsync_ReadsAgainOnceTheSnapshotIsOlderThanAsked()
    {
        int reads = 0;
        using var monitor = new ReplayProgressMonitor(_ => Task.FromResult(new ReplayProgress(Interlocked.Increment(ref reads), 0, 0)));

        await monitor.GetAsync(TimeSpan.FromMinutes(1), CancellationToken.None);
        await monitor.GetAsync(TimeSpan.FromMinutes(1), CancellationToken.None);
        var fresh = await monitor.GetAsync(TimeSpan.Zero, CancellationToken.None);

        Assert.Equal(2, reads);
        Assert.Equal(2, fresh.Updates);
    }

    [Fact]
    public async Task Estimate_AddsWhatThisGatewayStoredAndAdmittedSinceTheRead()
    {
        using var monitor = new ReplayProgressMonitor(_ => Task.FromResult(new ReplayProgress(0, 0, TotalInserted: 100)));
        await monitor.GetAsync(TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.True(monitor.TryReserve(10, (_, _) => true)); // 10 in flight
        monitor.Complete(reserved: 0, stored: 5);            // 5 stored without a reservation (limiter off)

        Assert.Equal(115, monitor.LastEstimate!.Value.TotalInserted);
        monitor.Complete(reserved: 10, stored: 0);           // the reserved push turned out a duplicate
        Assert.Equal(105, monitor.LastEstimate!.Value.TotalInserted);
    }

    [Fact]
    public async Task GetAsync_AFailedReadFailsItsCallersAndTheNextCallReadsAgain()
    {
        int reads = 0;
        using var monitor = new ReplayProgressMonitor(_ => Interlocked.Increment(ref reads) == 1
            ? Task.FromException<ReplayProgress>(new TimeoutException("redis down"))
            : Task.FromResult(new ReplayProgress(1, 1, 1)));

        await Assert.ThrowsAsync<TimeoutException>(async () => await monitor.GetAsync(TimeSpan.Zero, CancellationToken.None));
        var second = await monitor.GetAsync(TimeSpan.Zero, CancellationToken.None);

        Assert.Equal(new ReplayProgress(1, 1, 1), second);
    }

    [Fact]
    public async Task ApplyLearnerProgress_MovesTheEstimateAndWakesWaiters_WithoutARead()
    {
        int reads = 0;
        using var monitor = new ReplayProgressMonitor(_ => { Interlocked.Increment(ref reads); return Task.FromResult(new ReplayProgress(5, 1, 100)); });
        await monitor.GetAsync(TimeSpan.FromMinutes(1), CancellationToken.None);
        var changed = monitor.Changed;

        monitor.ApplyLearnerProgress(new DistSac.Replay.LearnerProgress(Updates: 9, WeightsVersion: 2, Finished: false));

        Assert.True(changed.IsCompleted);
        Assert.Equal(new ReplayProgress(9, 2, 100), await monitor.GetAsync(TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.Equal(1, reads);
    }

    [Fact]
    public async Task ApplyLearnerProgress_ThatChangesNothing_DoesNotWakeWaiters()
    {
        using var monitor = new ReplayProgressMonitor(_ => Task.FromResult(new ReplayProgress(5, 1, 100)));
        await monitor.GetAsync(TimeSpan.FromMinutes(1), CancellationToken.None);
        var changed = monitor.Changed;

        monitor.ApplyLearnerProgress(new DistSac.Replay.LearnerProgress(Updates: 5, WeightsVersion: 1, Finished: false));

        Assert.False(changed.IsCompleted);
    }

    [Fact]
    public async Task AMessageThatArrivesDuringARead_IsNotUndoneByTheReadsOlderResult()
    {
        var release = new TaskCompletionSource<ReplayProgress>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var monitor = new ReplayProgressMonitor(_ => release.Task);
        var reading = monitor.GetAsync(TimeSpan.Zero, CancellationToken.None).AsTask();

        monitor.ApplyLearnerProgress(new DistSac.Replay.LearnerProgress(Updates: 50, WeightsVersion: 2, Finished: true));
        release.SetResult(new ReplayProgress(Updates: 40, WeightsVersion: 1, TotalInserted: 100)); // read before the message

        Assert.Equal(new ReplayProgress(50, 2, 100, LearnerFinished: true), await reading);
    }

    [Fact]
    public async Task Complete_ThatStoresLessThanItReserved_WakesWaiters()
    {
        using var monitor = new ReplayProgressMonitor(_ => Task.FromResult(new ReplayProgress(0, 0, 0)));
        await monitor.GetAsync(TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.True(monitor.TryReserve(4, (_, _) => true));
        var changed = monitor.Changed;

        monitor.Complete(reserved: 4, stored: 4);
        Assert.False(changed.IsCompleted);
        Assert.True(monitor.TryReserve(4, (_, _) => true));
        monitor.Complete(reserved: 4, stored: 0); // a duplicate: the room it held is free again

        Assert.True(changed.IsCompleted);
    }
}
