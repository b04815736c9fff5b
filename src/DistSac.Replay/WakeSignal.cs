namespace DistSac.Replay;

/// <summary>
/// A wake-up that cannot be missed: take <see cref="Next"/> before checking the condition you wait for, then await it;
/// a <see cref="Set"/> in between completes the task taken. Every Set wakes everyone waiting on the current task.
/// Used where a pub/sub message replaces a polling loop.
/// </summary>
public sealed class WakeSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _signals;

    /// <summary>Completes at the next <see cref="Set"/>.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    /// <summary>Number of Set calls (for tests and diagnostics).</summary>
    public long Signals => Interlocked.Read(ref _signals);

    public void Set()
    {
        Interlocked.Increment(ref _signals);
        var previous = Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        previous.TrySetResult();
    }

    /// <summary>
    /// Waits for <paramref name="next"/> (taken from <see cref="Next"/>) for at most <paramref name="timeout"/>; true when
    /// it was signalled, false when the timeout (the caller's reconcile) came first.
    /// </summary>
    public static async Task<bool> WaitAsync(Task next, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        if (next.IsCompleted) return true;
        try
        {
            await next.WaitAsync(timeout, time, ct).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
