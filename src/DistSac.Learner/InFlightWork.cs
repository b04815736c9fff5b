using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace DistSac.Learner;

/// <summary>
/// Ends background work that must not outlive what it uses (the update loop's weights send and counter read use the
/// replay connection, which is disposed next) on a path that already has its own outcome, e.g. the loop's exception:
/// the work gets <c>grace</c> to finish, is then cancelled and gets <c>grace</c> once more. Its failures are logged,
/// never thrown, so they cannot replace the outcome being reported; and each task is observed whenever it ends, after
/// the bound too, so none is left to surface as an UnobservedTaskException.
/// </summary>
public static class InFlightWork
{
    /// <summary>True when every task ended within the bounds; false (logged as an error) when one is still running.</summary>
    /// <param name="work">Each task with what it is, in words for the log (<c>"weights send of version 10"</c>).</param>
    /// <param name="cancel">Cancels the work (the token the tasks were started with).</param>
    public static async Task<bool> SettleAsync(IReadOnlyList<(string What, Task Task)> work, CancellationTokenSource cancel, TimeSpan grace, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(cancel);
        ArgumentNullException.ThrowIfNull(logger);
        var all = new Task[work.Count];
        for (int i = 0; i < work.Count; i++)
        {
            var (what, task) = work[i];
            all[i] = task;
            _ = task.ContinueWith(t => LogEnd(t, what, logger), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        if (await AllEndWithinAsync(all, grace).ConfigureAwait(false)) return true;
        await cancel.CancelAsync().ConfigureAwait(false);
        if (await AllEndWithinAsync(all, grace).ConfigureAwait(false)) return true;
        for (int i = 0; i < work.Count; i++)
        {
            if (!work[i].Task.IsCompleted)
                logger.LogError("The {What} is still running {Seconds:F0} s after it was cancelled; going on without it (its end is logged if it comes)",
                    work[i].What, grace.TotalSeconds);
        }
        return false;
    }

    /// <summary>
    /// Whether every task ends within <paramref name="bound"/>. Only "has it ended" counts here (each task's failure is
    /// logged by its continuation), so no wrapper that could fault is made (no WhenAll, no WaitAsync): a faulted wrapper
    /// no one awaits would itself be an unobserved exception.
    /// </summary>
    private static async Task<bool> AllEndWithinAsync(Task[] tasks, TimeSpan bound)
    {
        long start = Stopwatch.GetTimestamp();
        foreach (var task in tasks)
        {
            var left = bound - Stopwatch.GetElapsedTime(start);
            if (task.IsCompleted) continue;
            if (left <= TimeSpan.Zero) return false;
            using var timer = new CancellationTokenSource();
            var first = await Task.WhenAny(task, Task.Delay(left, timer.Token)).ConfigureAwait(false);
            await timer.CancelAsync().ConfigureAwait(false);
            if (first != task) return false;
        }
        return true;
    }

    private static void LogEnd(Task task, string what, ILogger logger)
    {
        if (task.IsCanceled)
            logger.LogInformation("The {What} was cut off", what);
        else if (task.Exception is { } failure)
            logger.LogWarning(failure.InnerException, "The {What} failed too ({Reason}); it is logged here, the run's own outcome is the one reported",
                what, failure.InnerException?.Message);
    }
}
