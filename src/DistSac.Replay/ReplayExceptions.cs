namespace DistSac.Replay;

/// <summary>A shard could not be reached (connect failure, lost connection, timeout). Names the endpoint.</summary>
public sealed class ReplayUnavailableException : Exception
{
    public ReplayUnavailableException(string endpoint, int shard, string message, Exception? inner = null)
        : base(message, inner)
    {
        Endpoint = endpoint;
        Shard = shard;
    }

    public string Endpoint { get; }
    public int Shard { get; }

    /// <summary>
    /// True when the shard was known to be disconnected before anything was sent to it, so the operation certainly did
    /// not run (an insert is certainly not stored). False means it may or may not have run.
    /// </summary>
    public bool NotSent { get; init; }
}

/// <summary>Sampling was asked of a run that has no stored transitions yet.</summary>
public sealed class ReplayEmptyException(string message) : InvalidOperationException(message);

/// <summary>
/// A replay key holds a value DistSac never writes (a non-integer counter, a record of the wrong size): the shard's
/// state was edited or corrupted outside DistSac. Names the key, the field and the value, so an operator can repair it.
/// </summary>
public sealed class ReplayCorruptException(string message) : InvalidOperationException(message);

/// <summary>
/// A push refused for its sequence number: it skips a sequence of its lane that was never stored (a gap), or is older
/// than anything its lane holds. Nothing was stored; retrying the same push cannot succeed.
/// </summary>
public sealed class ReplaySequenceException(string message, long? expectedSequence) : Exception(message)
{
    /// <summary>The sequence the lane would store next; null when the push is older than the lane.</summary>
    public long? ExpectedSequence { get; } = expectedSequence;
}
