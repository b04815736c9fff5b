namespace DistSac.Replay;

/// <summary>
/// A sampled batch owned by the caller until handed back with <see cref="ReplayPrefetcher.Return"/>.
/// <see cref="Records"/> is a pooled buffer of exactly Count * RecordBytes bytes; do not keep it after returning.
/// </summary>
public sealed class PrefetchedBatch
{
    internal PrefetchedBatch(int count, int recordBytes)
    {
        Count = count;
        RecordBytes = recordBytes;
        Records = new byte[count * recordBytes];
        Origins = new SampleOrigins(count);
    }

    /// <summary>Where each record came from (shard, slot): what a learner names when it quarantines a bad record.</summary>
    public SampleOrigins Origins { get; }

    public byte[] Records { get; }
    public int Count { get; }
    public int RecordBytes { get; }
    /// <summary>How long the Redis round trip(s) for this batch took.</summary>
    public TimeSpan SampleTime { get; internal set; }
    /// <summary>Transitions stored run-wide (sum of the fills it was drawn from).</summary>
    public long TotalFill { get; internal set; }
    /// <summary>The owning prefetcher (a batch goes back only to its own pool).</summary>
    internal object? Owner { get; set; }
    internal bool Lent { get; set; }

    public ReadOnlySpan<byte> Span => Records;
}

/// <summary>The shard and slot of each record of a sampled batch.</summary>
public sealed class SampleOrigins(int capacity)
{
    private readonly int[] _shards = new int[capacity];
    private readonly long[] _slots = new long[capacity];

    public int Shard(int record) => _shards[record];
    public long Slot(int record) => _slots[record];

    internal void CopyFrom(int[] shards, long[] slots, int count)
    {
        if (count > _shards.Length)
            throw new ArgumentException($"origins hold {_shards.Length} records; the batch has {count}.", nameof(count));
        Array.Copy(shards, _shards, count);
        Array.Copy(slots, _slots, count);
    }
}
