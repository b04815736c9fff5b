using System.Globalization;

namespace DistSac.Replay;

/// <summary>
/// The run's samples-per-insert contract, owned by the learner alone: it writes it into the run metadata
/// (<see cref="ReplayMetadata.RateLimit"/>) at every start, builds its own <see cref="SamplesPerInsertRateLimiter"/> from
/// it, and every gateway builds the same limiter from the copy it reads. One definition, so the two halves of the limiter
/// cannot disagree (before, the gateway had its own ratio, tolerance and threshold, and a mismatch could deadlock them).
/// </summary>
/// <param name="UpdatesPerTransition">Learner updates per stored transition (Learner:UpdatesPerTransition); 0 disables the ratio.</param>
/// <param name="Tolerance">Updates either side may run ahead (Learner:RateLimitTolerance; the limiter raises it to at least 1).</param>
/// <param name="MinTransitions">
/// Transitions stored before the ratio applies: the learner's effective threshold, max(Learner:WarmupTransitions,
/// Sac:BatchSize) (it cannot sample a batch from fewer).
/// </param>
public sealed record RateLimitContract(double UpdatesPerTransition, double Tolerance, long MinTransitions)
{
    /// <summary>No ratio: pushes are never held (a run whose metadata carries no contract, e.g. from a benchmark).</summary>
    public static readonly RateLimitContract Off = new(0, 1, 0);

    public bool Enabled => UpdatesPerTransition > 0;

    /// <summary>The learner's contract from its settings; the threshold is computed here and nowhere else.</summary>
    public static RateLimitContract ForLearner(double updatesPerTransition, double tolerance, long warmupTransitions, int batchSize) =>
        new(updatesPerTransition, tolerance, Math.Max(warmupTransitions, batchSize));

    public SamplesPerInsertRateLimiter CreateLimiter() => new(UpdatesPerTransition, MinTransitions, Tolerance);

    /// <summary>Null when usable, else what is wrong (a contract read from Redis may have been edited by hand).</summary>
    public string? Problem()
    {
        if (!double.IsFinite(UpdatesPerTransition) || UpdatesPerTransition < 0) return $"UpdatesPerTransition {Describe(UpdatesPerTransition)} must be finite and >= 0";
        if (!double.IsFinite(Tolerance) || Tolerance < 0) return $"Tolerance {Describe(Tolerance)} must be finite and >= 0";
        if (MinTransitions < 0) return $"MinTransitions {MinTransitions} must be >= 0";
        return null;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{UpdatesPerTransition:0.###} updates/transition, tolerance {Tolerance:0.###}, after {MinTransitions} transitions");

    private static string Describe(double value) => value.ToString(CultureInfo.InvariantCulture);
}
