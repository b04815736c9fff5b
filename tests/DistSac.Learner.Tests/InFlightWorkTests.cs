using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace DistSac.Learner.Tests;

/// <summary>
/// The end of the update loop's background work after an exception: bounded, cancelled after a grace, failures logged
/// (never thrown, never left unobserved). Pure: the work is plain tasks.
/// </summary>
public sealed class InFlightWorkTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(200);

    [Fact]
    public async Task A_failed_task_is_logged_not_thrown_and_a_cancelled_one_is_logged_as_cut_off()
    {
        var log = new RecordedLog();
        using var cancel = new CancellationTokenSource();
        var failed = Task.FromException(new InvalidOperationException("NOPERM no hset"));
        var cut = Task.FromCanceled(new CancellationToken(canceled: true));

        bool settled = await InFlightWork.SettleAsync([("weights send of version 10", failed), ("read of the shards' counters", cut)], cancel, Grace, log);

        Assert.True(settled);
        Assert.False(cancel.IsCancellationRequested); // ended within the grace: nothing to cancel
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("weights send of version 10 failed too (NOPERM no hset)", StringComparison.Ordinal));
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("read of the shards' counters was cut off", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Work_still_running_after_the_grace_is_cancelled_and_waited_for()
    {
        var log = new RecordedLog();
        using var cancel = new CancellationTokenSource();
        var waiting = Task.Delay(Timeout.Infinite, cancel.Token); // a send waiting out an outage: ends only when cancelled

        bool settled = await InFlightWork.SettleAsync([("weights send of version 3", waiting)], cancel, Grace, log);

        Assert.True(settled);
        Assert.True(cancel.IsCancellationRequested);
        Assert.True(waiting.IsCanceled);
    }

    [Fact]
    public async Task Work_that_outlives_both_bounds_is_reported_and_its_later_failure_is_still_logged_and_observed()
    {
        var log = new RecordedLog();
        using var cancel = new CancellationTokenSource();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string marker = "late failure " + Guid.NewGuid().ToString("N");
        var unobserved = new List<string>();
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
        {
            if (e.Exception.ToString().Contains(marker, StringComparison.Ordinal)) lock (unobserved) unobserved.Add(marker);
        }
        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            bool settled = await SettleIgnoringCancellation(release, marker, cancel, log);
            Assert.False(settled);
            Assert.Contains(log.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("weights send of version 7 is still running", StringComparison.Ordinal));

            release.SetResult(); // the stuck send fails long after the run went on without it
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!log.Entries.Any(e => e.Level == LogLevel.Warning && e.Message.Contains(marker, StringComparison.Ordinal)))
            {
                Assert.True(DateTime.UtcNow < deadline, "the late failure was never logged");
                await Task.Delay(20);
            }
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }
        lock (unobserved) Assert.Empty(unobserved);
    }

    /// <summary>The stuck task is made here so that, once it has failed, nothing but the settling code could observe it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Task<bool> SettleIgnoringCancellation(TaskCompletionSource release, string marker, CancellationTokenSource cancel, RecordedLog log)
    {
        var stuck = Task.Run(async () =>
        {
            await release.Task;
            throw new InvalidOperationException(marker);
        });
        return InFlightWork.SettleAsync([("weights send of version 7", stuck)], cancel, Grace, log);
    }
}
