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
    }

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
