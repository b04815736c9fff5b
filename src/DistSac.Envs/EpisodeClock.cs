namespace DistSac.Envs;

/// <summary>
/// Gymnasium's TimeLimit and OrderEnforcing wrappers folded into a counter: truncation once the elapsed steps
/// reach the limit (and on every step after, as TimeLimit does if stepping continues), and no step before a reset.
/// </summary>
internal struct EpisodeClock
{
    private readonly int _maxEpisodeSteps;
    private int _elapsedSteps;

    public EpisodeClock(int maxEpisodeSteps)
    {
        _maxEpisodeSteps = maxEpisodeSteps;
        _elapsedSteps = -1;
    }

    public readonly bool HasStarted => _elapsedSteps >= 0;

    public void Restart() => _elapsedSteps = 0;

    /// <summary>Counts one step; returns whether the episode is truncated by the time limit.</summary>
    public bool Tick()
    {
        if (_elapsedSteps < 0)
        {
            ThrowResetNeeded();
        }

        _elapsedSteps++;
        return _elapsedSteps >= _maxEpisodeSteps;
    }

    private static void ThrowResetNeeded() =>
        throw new InvalidOperationException("Cannot call Step before calling Reset.");
}
