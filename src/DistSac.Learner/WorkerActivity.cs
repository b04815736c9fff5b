namespace DistSac.Learner;

/// <summary>
/// Which workers feed the run, from the replay's per-worker insert counts: a worker is active while its count grew
/// within <see cref="ActiveWindow"/>. Counts live in Redis (any gateway may have stored them), so this sees workers
/// whichever gateway they use and survives a learner restart.
/// </summary>
public sealed class WorkerActivity(TimeSpan activeWindow)
{
    private readonly Dictionary<string, (long Count, TimeSpan ChangedAt)> _workers = new(StringComparer.Ordinal);

    public TimeSpan ActiveWindow { get; } = activeWindow;

    /// <summary>Workers whose count grew within the window at the last <see cref="Observe"/>.</summary>
    public int Active { get; private set; }

    /// <summary>Workers that ever stored a transition in this run.</summary>
    public int Seen => _workers.Count;

    /// <summary>Transitions stored per worker id at the last <see cref="Observe"/>.</summary>
    public IEnumerable<KeyValuePair<string, long>> Transitions
    {
        get
        {
            foreach (var (worker, w) in _workers) yield return new(worker, w.Count);
        }
    }

    /// <summary>Folds in a fresh reading of worker id -> transitions inserted, taken at <paramref name="now"/>.</summary>
    public void Observe(IReadOnlyDictionary<string, long> counts, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(counts);
        foreach (var (worker, count) in counts)
        {
            // A first sighting counts as a change: the worker stored something since the run (or this learner) began.
            if (!_workers.TryGetValue(worker, out var known) || known.Count != count)
                _workers[worker] = (count, now);
        }
        int active = 0;
        foreach (var (_, w) in _workers)
        {
            if (now - w.ChangedAt <= ActiveWindow) active++;
        }
        Active = active;
    }
}
