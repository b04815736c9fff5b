namespace DistSac.Learner;

/// <summary>
/// At most one read in flight, started without waiting for it; its result is taken by whoever looks after it arrived.
/// The update loop refreshes the shards' counters this way so that no update waits for a Redis round trip.
/// </summary>
public sealed class PendingRead<T>
{
    private Task<T>? _read;

    public bool InFlight => _read is not null;

    /// <summary>Starts <paramref name="read"/> unless a read is already in flight.</summary>
    public void Start(Func<Task<T>> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        _read ??= read();
    }

    /// <summary>True with the result when the read in flight has finished; its exception is rethrown here.</summary>
    public bool TryTake(out T value)
    {
        if (_read is not { IsCompleted: true } done)
        {
            value = default!;
            return false;
        }
        _read = null;
        value = done.GetAwaiter().GetResult();
        return true;
    }

    /// <summary>Waits for the read in flight, if any (its exception is rethrown), and forgets it.</summary>
    public async Task DrainAsync()
    {
        if (_read is not { } read) return;
        _read = null;
        await read;
    }
}
