using System.Diagnostics;
using DistSac.Replay;

namespace DistSac.Gateway;

/// <summary>Whether a push may be stored now; a reservation must be released with <see cref="ReplayProgressMonitor.Complete"/>.</summary>
public readonly record struct Admission(bool Admitted, int Reserved, string? Reason);

/// <summary>
/// The gateway half of the rate limiter (Reverb's SampleToInsertRatio): before a batch is stored, wait while the workers
/// are ahead of the learner's updates-per-transition ratio. Waiting is polling the shared progress snapshot, so held
/// pushes cost Redis one read per poll interval in total. Nothing is stored while a push is held, so giving up
/// (cancellation, deadline, <c>MaxHoldMs</c>) is always safe to retry with the same sequence number.
/// </summary>
public sealed class InsertAdmission
{
    private readonly GatewayOptions _options;
    private readonly ReplayProgressMonitor _monitor;
    private readonly GatewayCounters _counters;
    private readonly TimeProvider _time;
    private readonly TimeSpan _poll;
    private readonly Func<ReplayProgress, int, bool> _allowed;
    private volatile SamplesPerInsertRateLimiter? _limiter;
    private long _limiterMinTransitions = long.MinValue;

    public InsertAdmission(GatewayOptions options, ReplayProgressMonitor monitor, GatewayCounters counters, TimeProvider? time = null)
    {
        _options = options;
        _monitor = monitor;
        _counters = counters;
        _time = time ?? TimeProvider.System;
        _poll = TimeSpan.FromMilliseconds(options.ProgressPollMs);
        _allowed = Allowed; // one delegate for the life of the gateway: no allocation per push
    }

    public bool Enabled => _options.RateLimit > 0;

    /// <param name="runWarmupTransitions">The run's warm-up length, used as the free allowance when RateLimitMinTransitions is -1.</param>
    public async ValueTask<Admission> WaitAsync(int transitions, long runWarmupTransitions, CancellationToken ct)
    {
        if (!Enabled) return new Admission(true, 0, null);
        var limiter = LimiterFor(_options.RateLimitMinTransitions >= 0 ? _options.RateLimitMinTransitions : runWarmupTransitions);
        long heldSince = 0;
        try
        {
            while (true)
            {
                var progress = await _monitor.GetAsync(_poll, ct).ConfigureAwait(false);
                if (_monitor.TryReserve(transitions, _allowed))
                    return new Admission(true, transitions, null);
                if (heldSince == 0)
                {
                    heldSince = Stopwatch.GetTimestamp();
                    _counters.HoldStarted();
                }
                if (_options.MaxHoldMs > 0 && Stopwatch.GetElapsedTime(heldSince).TotalMilliseconds >= _options.MaxHoldMs)
                {
                    _counters.HoldTimeout();
                    return new Admission(false, 0,
                        $"held {_options.MaxHoldMs} ms by the rate limiter: {limiter.Reason(progress.Updates, progress.TotalInserted)}. " +
                        "Nothing was stored; retry with the same sequence (is the learner running?).");
                }
                await Task.Delay(_poll, _time, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            if (heldSince != 0) _counters.Held(Stopwatch.GetTimestamp() - heldSince);
        }
    }

    private bool Allowed(ReplayProgress progress, int transitions) =>
        _limiter!.WorkersMayInsert(progress.Updates, progress.TotalInserted, transitions);

    private SamplesPerInsertRateLimiter LimiterFor(long minTransitions)
    {
        var limiter = _limiter;
        if (limiter is not null && Interlocked.Read(ref _limiterMinTransitions) == minTransitions) return limiter;
        limiter = new SamplesPerInsertRateLimiter(_options.RateLimit, minTransitions, _options.RateLimitTolerance);
        Interlocked.Exchange(ref _limiterMinTransitions, minTransitions);
        _limiter = limiter;
        return limiter;
    }
}
