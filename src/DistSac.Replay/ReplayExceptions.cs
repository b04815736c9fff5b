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
}

/// <summary>Sampling was asked of a run that has no stored transitions yet.</summary>
public sealed class ReplayEmptyException(string message) : InvalidOperationException(message);
