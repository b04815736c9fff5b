using System.Diagnostics;
using DistSac.Replay;

namespace DistSac.Gateway;

/// <summary>Whether a push may be stored now; a reservation must be released with <see cref="ReplayProgressMonitor.Complete"/>.</summary>
public readonly record struct Admission(bool Admitted, int Reserved, string? Reason);

/// <summary>
/// The gateway half of the rate limiter (Reverb's SampleToInsertRatio): before a batch is stored, wait while the workers
/// are ahead of the learner's updates-per-transition ratio. The ratio, tolerance and threshold are the learner's
/// (<see cref="RateLimitContract"/>, read from the run metadata with every progress reading), so a learner restarted with
/// other settings changes what this gateway admits, and the two halves never disagree. A held push sleeps until the
/// shared progress changes (the learner's progress message, see <see cref="LearnerProgressFollower"/>) or, as the safety
/// net for a lost message, <c>ProgressReconcileMs</c> passes; so held pushes cost nothing while the learner is idle but
/// one Redis read per reconcile interval in total. Once the learner marked training finished, nothing is held (the run's
/// last pushes are acknowledged at once and workers stop without waiting). Nothing is stored while a push is held, so
/// giving up (cancellation, deadline, <c>MaxHoldMs</c>) is always safe to retry with the same sequence number.
/// </summary>
public sealed class InsertAdmission
{
    private readonly GatewayOptions _options;
    private readonly ReplayProgressMonitor _monitor;
    private readonly GatewayCounters _counters;
    private readonly TimeProvider _time;
    /// <summary>Oldest reading a decision may use: a push arriving with traffic flowing re-reads other gateways' inserts this often.</summary>
    private static readonly TimeSpan FreshReading = TimeSpan.FromMilliseconds(100);
    private readonly TimeSpan _reconcile;
    private readonly TimeSpan _maxAge;
    private readonly Func<ReplayProgress, int, bool> _allowed;
    private volatile Limiter? _limiter;

    private sealed record Limiter(RateLimitContract Contract, SamplesPerInsertRateLimiter Rule);

    public InsertAdmission(GatewayOptions options, ReplayProgressMonitor monitor, GatewayCounters counters, TimeProvider? time = null)
    {
        _options = options;
        _monitor = monitor;
        _counters = counters;
        _time = time ?? TimeProvider.System;
        _reconcile = TimeSpan.FromMilliseconds(options.ProgressReconcileMs);
        _maxAge = _reconcile < FreshReading ? _reconcile : FreshReading;
        _allowed = Allowed; // one delegate for the life of the gateway: no allocation per push
    }

    public async ValueTask<Admission> WaitAsync(int transitions, CancellationToken ct)
    {
        long heldSince = 0;
        try
        {
            while (true)
            {
                var changed = _monitor.Changed; // taken before the check, so a change during it still wakes this push
                var progress = await _monitor.GetAsync(_maxAge, ct).ConfigureAwait(false);
                if (progress.RateLimit is not { Enabled: true }) return new Admission(true, 0, null);
                if (_monitor.TryReserve(transitions, _allowed))
                    return new Admission(true, transitions, null);
                if (heldSince == 0)
                {
                    heldSince = Stopwatch.GetTimestamp();
                    _counters.HoldStarted();
                }
                var wait = _reconcile;
                if (_options.MaxHoldMs > 0)
                {
                    var left = TimeSpan.FromMilliseconds(_options.MaxHoldMs) - Stopwatch.GetElapsedTime(heldSince);
                    if (left < wait) wait = left;
                }
                if (wait <= TimeSpan.Zero)
                {
                    _counters.HoldTimeout();
                    return new Admission(false, 0,
                        $"held {_options.MaxHoldMs} ms by the rate limiter: {LimiterFor(progress.RateLimit).Reason(progress.Updates, progress.TotalInserted)}. " +
                        "Nothing was stored; retry with the same sequence (is the learner running?).");
                }
                await WakeSignal.WaitAsync(changed, wait, _time, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            if (heldSince != 0) _counters.Held(Stopwatch.GetTimestamp() - heldSince);
        }
    }

    private bool Allowed(ReplayProgress progress, int transitions) =>
        progress.LearnerFinished || progress.RateLimit is not { Enabled: true } contract
        || LimiterFor(contract).WorkersMayInsert(progress.Updates, progress.TotalInserted, transitions);

    /// <summary>The limiter of the current contract, built again only when the learner changed it.</summary>
    private SamplesPerInsertRateLimiter LimiterFor(RateLimitContract contract)
    {
        var limiter = _limiter;
        if (limiter is not null && ReferenceEquals(limiter.Contract, contract)) return limiter.Rule;
        if (limiter is not null && limiter.Contract == contract) return limiter.Rule;
        limiter = new Limiter(contract, contract.CreateLimiter());
        _limiter = limiter;
        return limiter.Rule;
    }
}
