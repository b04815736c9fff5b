namespace DistSac.Worker;

/// <summary>
/// One storage lane of this worker start: (worker, incarnation, shard), with sequences 0, 1, 2, ... of its own and at
/// most one batch pending, so the lane's last sequence is always the pending one and can be given back when the
/// gateway says that batch was certainly not stored. A lane whose shard refused a batch is avoided for a back-off.
/// </summary>
internal sealed class PushLane(int shard)
{
    /// <summary>A shard that was down is tried again after 250 ms, doubling to 5 s while it stays down.</summary>
    private readonly RetryBackoff _downBackoff = new(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));

    public int Shard { get; } = shard;

    /// <summary>The sequence the next batch bound to this lane carries; also the number of batches it holds.</summary>
    public long NextSequence { get; private set; }

    public TransitionBatch? PendingBatch { get; private set; }

    public Task<PushDelivery>? Pending { get; private set; }

    /// <summary>Stopwatch timestamp before which no new batch is bound here (0: healthy).</summary>
    public long DownUntil { get; private set; }

    public bool IsFree => Pending is null;

    public bool AcceptsAt(long now) => Pending is null && now >= DownUntil;

    /// <summary>Binds <paramref name="batch"/> to the lane's next sequence; returns that sequence.</summary>
    public long Bind(TransitionBatch batch)
    {
        if (Pending is not null) throw new InvalidOperationException($"lane {Shard} already has a batch pending.");
        PendingBatch = batch;
        return NextSequence++;
    }

    public void Started(Task<PushDelivery> push) => Pending = push;

    /// <summary>The pending batch was acknowledged: it is free again, and the shard is healthy.</summary>
    public TransitionBatch Acknowledged()
    {
        var batch = Release();
        _downBackoff.Reset();
        DownUntil = 0;
        return batch;
    }

    /// <summary>
    /// The pending batch was certainly not stored: its sequence goes back (it was the lane's last, so the lane stays
    /// without a gap) and the lane is avoided for a back-off. Returns the batch, to be bound elsewhere.
    /// </summary>
    public TransitionBatch NotStored(long now)
    {
        var batch = Release();
        NextSequence--;
        DownUntil = now + (long)(_downBackoff.Next().TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        return batch;
    }

    /// <summary>Forgets the pending push without looking at it (it failed: the worker stops).</summary>
    public TransitionBatch? Abandon() => PendingBatch is null ? null : Release();

    private TransitionBatch Release()
    {
        var batch = PendingBatch ?? throw new InvalidOperationException($"lane {Shard} has no batch pending.");
        PendingBatch = null;
        Pending = null;
        return batch;
    }
}
