namespace DistSac.Learner;

/// <summary>
/// Published weights version = offset + update count. Workers and gateways only take a version newer than the one
/// they hold, so a learner restarted from an older checkpoint (or none) must publish above everything already in
/// Redis: the offset jumps past the latest stored version. Staleness (current version minus a record's version) stays
/// non-negative because every stored record was acted on with a version at or below the latest published one.
/// </summary>
public static class WeightsVersionOffset
{
    /// <summary>The offset for a learner starting at <paramref name="updates"/> that saved <paramref name="checkpointOffset"/>.</summary>
    /// <param name="latestStored">The run's latest published version in Redis, or null when none is stored.</param>
    public static long Resume(long checkpointOffset, long updates, long? latestStored)
    {
        if (latestStored is { } latest && latest >= checkpointOffset + updates) return latest + 1 - updates;
        return checkpointOffset;
    }
}
