using DistSac.Replay;

namespace DistSac.Gateway;

/// <summary>Learner updates, latest weights version and transitions stored run-wide, as one consistent-enough reading.</summary>
/// <param name="LearnerFinished">The learner marked training finished: nothing is held for it any more.</param>
/// <param name="RateLimit">The learner's rate-limit contract from the run metadata; null until one was read (nothing is held).</param>
public readonly record struct ReplayProgress(long Updates, long WeightsVersion, long TotalInserted, bool LearnerFinished = false, RateLimitContract? RateLimit = null);

/// <summary>
/// The gateway's shared view of run progress. Any number of concurrent pushes ask for it, but Redis is read at most
/// once per <c>maxAge</c>: the first caller after the snapshot goes stale starts one read and the others await the same
/// task (single flight), so a thousand held pushes cost one read per poll interval, not a thousand.
/// Between reads the estimate adds what this gateway stored or has admitted since, so a burst of pushes released at the
/// same moment cannot all pass the rate limiter on one stale number.
/// Each read also takes the learner's rate-limit contract from the run metadata, so a learner restarted with other
/// settings changes admission at the next reading (its progress message wakes held pushes, which then read again).
/// The learner's part of the reading also moves by notification (<see cref="ApplyLearnerProgress"/>, fed by the learner
/// channel), and <see cref="Changed"/> wakes held pushes when it does: they wait on that, not on a poll.
/// </summary>
public sealed class ReplayProgressMonitor : IDisposable
{
    private sealed record Reading(ReplayProgress Progress, long StartedAt, long CompletedLocalAtStart);
    private sealed record Message(LearnerProgress Progress, long Number);

    private readonly Func<CancellationToken, Task<ReplayProgress>> _read;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Lock _gate = new();
    private Reading? _reading;
    private Task<Reading>? _refresh;
    private long _completedLocal; // transitions this gateway has stored
    private long _inFlight;       // transitions admitted by the rate limiter, not yet stored or abandoned
    private Message? _message;    // the latest learner progress message, numbered in arrival order
    private readonly WakeSignal _changed = new();

    public ReplayProgressMonitor(Func<CancellationToken, Task<ReplayProgress>> read, TimeProvider? time = null)
    {
        _read = read;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Completes when the estimate may now admit more than before: the learner's progress moved (message or read), or
    /// a reserved push stored less than it reserved. Take it before checking, then await it.
    /// </summary>
    public Task Changed => _changed.Next;

    /// <summary>Number of reads that went to the source (for tests and diagnostics).</summary>
    public long Reads { get; private set; }

    /// <summary>The last estimate without touching Redis; null before the first successful read.</summary>
    public ReplayProgress? LastEstimate
    {
        get
        {
            var reading = Volatile.Read(ref _reading);
            return reading is null ? null : Estimate(reading);
        }
    }

    /// <summary>The estimate from a reading at most <paramref name="maxAge"/> old, reading once for all waiting callers if needed.</summary>
    public async ValueTask<ReplayProgress> GetAsync(TimeSpan maxAge, CancellationToken ct)
    {
        var reading = Volatile.Read(ref _reading);
        if (reading is not null && _time.GetElapsedTime(reading.StartedAt) <= maxAge)
            return Estimate(reading);
        Task<Reading> refresh;
        lock (_gate)
        {
            if (_refresh is null || _refresh.IsCompleted)
            {
                reading = _reading;
                if (reading is not null && _time.GetElapsedTime(reading.StartedAt) <= maxAge)
                    return Estimate(reading);
                _refresh = RefreshAsync();
            }
            refresh = _refresh;
        }
        return Estimate(await refresh.WaitAsync(ct).ConfigureAwait(false));
    }

    /// <summary>
    /// Atomically: if <paramref name="allowed"/> accepts the current estimate for a batch of <paramref name="transitions"/>,
    /// count the batch as in flight so the next caller sees it. Pair every true with <see cref="Complete"/>.
    /// </summary>
    public bool TryReserve(int transitions, Func<ReplayProgress, int, bool> allowed)
    {
        lock (_gate)
        {
            var reading = _reading;
            if (reading is null || !allowed(Estimate(reading), transitions)) return false;
            Interlocked.Add(ref _inFlight, transitions);
            return true;
        }
    }

    /// <summary>Records the end of a push: <paramref name="reserved"/> leaves the in-flight count, <paramref name="stored"/> joins the local total.</summary>
    public void Complete(int reserved, int stored)
    {
        // Add before subtract so a concurrent estimate never dips below the truth.
        if (stored != 0) Interlocked.Add(ref _completedLocal, stored);
        if (reserved != 0) Interlocked.Add(ref _inFlight, -reserved);
        if (reserved > stored) _changed.Set(); // room freed that no insert took: a held push may fit now
    }

    /// <summary>
    /// Takes the learner's part of the reading from a progress message (the learner writes the hash before it
    /// publishes, so a message is never ahead of Redis). Total inserted stays from the last read plus local counts.
    /// </summary>
    public void ApplyLearnerProgress(LearnerProgress learner)
    {
        bool moved;
        lock (_gate)
        {
            _message = new Message(learner, (_message?.Number ?? 0) + 1);
            var reading = _reading;
            if (reading is null) return; // the first read takes it (RefreshAsync)
            var progress = WithLearner(reading.Progress, learner);
            moved = LearnerMoved(reading.Progress, progress);
            Volatile.Write(ref _reading, reading with { Progress = progress });
        }
        if (moved) _changed.Set();
    }

    private ReplayProgress Estimate(Reading reading)
    {
        // Stores that finished after the read began may be counted twice (once in Redis, once locally): the estimate
        // errs high, which only ever holds a push a little longer, never lets workers run further ahead.
        long local = Volatile.Read(ref _completedLocal) - reading.CompletedLocalAtStart + Volatile.Read(ref _inFlight);
        return reading.Progress with { TotalInserted = reading.Progress.TotalInserted + local };
    }

    private async Task<Reading> RefreshAsync()
    {
        long startedAt = _time.GetTimestamp();
        long completedAtStart = Volatile.Read(ref _completedLocal);
        long messageAtStart = Volatile.Read(ref _message)?.Number ?? 0;
        // One caller's cancellation must not fail the read the others are waiting on, so it runs on the monitor's lifetime.
        var progress = await _read(_lifetime.Token).ConfigureAwait(false);
        Reads++;
        Reading reading;
        bool moved;
        lock (_gate)
        {
            // A message that arrived while the read was under way may be newer than what the read saw: keep it.
            if (_message is { } m && m.Number > messageAtStart) progress = WithLearner(progress, m.Progress);
            // Metadata briefly missing (every shard that answers restarted empty; the learner re-creates it): keep the contract known before.
            if (progress.RateLimit is null && _reading?.Progress.RateLimit is { } known) progress = progress with { RateLimit = known };
            reading = new Reading(progress, startedAt, completedAtStart);
            moved = _reading is null || LearnerMoved(_reading.Progress, progress);
            Volatile.Write(ref _reading, reading);
        }
        if (moved) _changed.Set();
        return reading;
    }

    private static ReplayProgress WithLearner(ReplayProgress progress, LearnerProgress learner) =>
        progress with { Updates = learner.Updates, WeightsVersion = learner.WeightsVersion, LearnerFinished = learner.Finished };

    private static bool LearnerMoved(ReplayProgress before, ReplayProgress after) =>
        after.Updates != before.Updates || after.LearnerFinished != before.LearnerFinished || after.RateLimit != before.RateLimit;

    public void Dispose()
    {
        _lifetime.Cancel();
        _lifetime.Dispose();
    }
}
