namespace DistSac.Worker;

/// <summary>
/// Exponential back-off for reconnecting to the gateway: 100 ms doubling to 5 s. Each wait is drawn uniformly from
/// [d/2, d] ("equal jitter") so that workers that lost the gateway together do not all come back in the same instant.
/// </summary>
public sealed class RetryBackoff
{
    public static readonly TimeSpan DefaultInitial = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan DefaultMaximum = TimeSpan.FromSeconds(5);

    private readonly TimeSpan _initial;
    private readonly TimeSpan _maximum;
    private TimeSpan _current;

    public RetryBackoff()
        : this(DefaultInitial, DefaultMaximum)
    {
    }

    public RetryBackoff(TimeSpan initial, TimeSpan maximum)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(initial, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maximum, initial);
        _initial = initial;
        _maximum = maximum;
        _current = initial;
    }

    /// <summary>Failures since the last <see cref="Reset"/>.</summary>
    public int Attempts { get; private set; }

    /// <summary>The wait before the next try; the ceiling doubles after each call until the maximum.</summary>
    public TimeSpan Next()
    {
        TimeSpan ceiling = _current;
        Attempts++;
        _current = TimeSpan.FromTicks(Math.Min(_current.Ticks * 2, _maximum.Ticks));
        return TimeSpan.FromTicks(ceiling.Ticks / 2 + (long)(Random.Shared.NextDouble() * (ceiling.Ticks / 2)));
    }

    public void Reset()
    {
        _current = _initial;
        Attempts = 0;
    }
}
