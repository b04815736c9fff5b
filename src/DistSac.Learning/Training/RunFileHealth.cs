namespace DistSac.Learning.Training;

/// <summary>
/// Tracks the run's best-effort output files (metrics.jsonl, the TensorBoard event file) that failed to write: a full
/// disk or a read-only runs root must not stop training, so a failed write is counted and reported once per outage
/// (<see cref="Failing"/>) and once when the file is writable again (<see cref="Recovered"/>).
/// </summary>
public sealed class RunFileHealth
{
    private readonly HashSet<string> _failing = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _failedWrites;

    /// <summary>Raised on the first failed write of a file after it last succeeded: the path and the error.</summary>
    public event Action<string, Exception>? Failing;

    /// <summary>Raised on the first successful write of a file that had been failing.</summary>
    public event Action<string>? Recovered;

    /// <summary>Every failed write since start, of every file.</summary>
    public long FailedWrites => Interlocked.Read(ref _failedWrites);

    public static bool IsWriteFailure(Exception e) => e is IOException or UnauthorizedAccessException;

    internal void Failed(string path, Exception error)
    {
        Interlocked.Increment(ref _failedWrites);
        bool first;
        lock (_gate) first = _failing.Add(path);
        if (first) Failing?.Invoke(path, error);
    }

    internal void Succeeded(string path)
    {
        bool recovered;
        lock (_gate) recovered = _failing.Count > 0 && _failing.Remove(path);
        if (recovered) Recovered?.Invoke(path);
    }
}
