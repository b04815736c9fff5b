using System.Globalization;

namespace DistSac.Replay;

/// <summary>
/// Reverb's SampleToInsertRatio as pure logic. With r = updates per inserted transition, m = transitions before the
/// first update (warm-up) and n, u = transitions inserted and updates done, the learner's "debt" is
/// D = (n - m) * r - u, the updates it may still do. The learner may update while D - 1 >= -tolerance (it may run
/// ahead by up to tolerance updates); workers may insert while D &lt;= tolerance (a batch is admitted when the learner
/// is at most tolerance updates behind; the batch itself then adds b * r). Warm-up inserts are always admitted.
/// The tolerance is raised to at least 1: below that the two conditions can both fail (0 &lt; D &lt; 1) and learner
/// and workers would wait on each other forever. A ratio of 0 disables the ratio (the warm-up still gates updates).
/// </summary>
public sealed class SamplesPerInsertRateLimiter
{
    public SamplesPerInsertRateLimiter(double updatesPerTransition, long minTransitionsToSample, double tolerance)
    {
        if (!(updatesPerTransition >= 0) || double.IsInfinity(updatesPerTransition))
            throw new ArgumentOutOfRangeException(nameof(updatesPerTransition), updatesPerTransition, "must be finite and >= 0 (0 disables).");
        ArgumentOutOfRangeException.ThrowIfNegative(minTransitionsToSample);
        if (!(tolerance >= 0) || double.IsInfinity(tolerance))
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "must be finite and >= 0.");
        UpdatesPerTransition = updatesPerTransition;
        MinTransitionsToSample = minTransitionsToSample;
        Tolerance = Math.Max(tolerance, 1.0);
    }

    public double UpdatesPerTransition { get; }
    public long MinTransitionsToSample { get; }
    /// <summary>The effective tolerance in updates (the configured one, at least 1).</summary>
    public double Tolerance { get; }
    public bool Enabled => UpdatesPerTransition > 0;

    /// <summary>Updates the learner may still do now (negative: it is ahead).</summary>
    public double Debt(long updatesDone, long transitionsInserted) =>
        (transitionsInserted - MinTransitionsToSample) * UpdatesPerTransition - updatesDone;

    /// <summary>True when update number updatesDone + 1 may run. Never before the warm-up, never on an empty buffer.</summary>
    public bool LearnerMayUpdate(long updatesDone, long transitionsInserted)
    {
        if (transitionsInserted < Math.Max(MinTransitionsToSample, 1)) return false;
        if (!Enabled) return true;
        return Debt(updatesDone, transitionsInserted) - 1 >= -Tolerance;
    }

    /// <summary>True when a batch of batchTransitions may be stored (acknowledged) now.</summary>
    public bool WorkersMayInsert(long updatesDone, long transitionsInserted, int batchTransitions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchTransitions, 1);
        if (!Enabled || transitionsInserted < MinTransitionsToSample) return true;
        // Reverb form: after the batch, debt <= tolerance + the batch's own b*r; i.e. debt before it <= tolerance.
        return Debt(updatesDone, transitionsInserted) <= Tolerance;
    }

    /// <summary>One line saying who waits and why, for logs and status.</summary>
    public string Reason(long updates, long inserted)
    {
        var c = CultureInfo.InvariantCulture;
        if (inserted < Math.Max(MinTransitionsToSample, 1))
            return string.Create(c, $"warm-up: {inserted}/{Math.Max(MinTransitionsToSample, 1)} transitions before the first update");
        if (!Enabled)
            return string.Create(c, $"rate limiter off (ratio 0): {updates} updates, {inserted} transitions");
        double debt = Debt(updates, inserted);
        string where = string.Create(c,
            $"{updates} updates for {inserted - MinTransitionsToSample} transitions after warm-up at {UpdatesPerTransition:0.###} updates/transition, tolerance {Tolerance:0.###}");
        if (!LearnerMayUpdate(updates, inserted))
            return string.Create(c, $"learner ahead by {-debt:0.##} updates, waiting for transitions: {where}");
        if (!WorkersMayInsert(updates, inserted, 1))
            return string.Create(c, $"workers ahead: learner owes {debt:0.##} updates, holding back inserts: {where}");
        return string.Create(c, $"balanced (debt {debt:0.##}): {where}");
    }
}
