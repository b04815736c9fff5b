using StackExchange.Redis;

namespace DistSac.Replay;

/// <summary>
/// The learner's copy of one shard's ring: slot i of the shard is record i here. Stored in fixed-size segments of
/// <see cref="SegmentRecords"/> records, allocated as the fill reaches them (a ring that never fills never costs its
/// whole capacity) and kept for the mirror's lifetime. Slots [0, <see cref="Fill"/>) are samplable. Writers (the
/// refill) and readers (sampling) take the same lock per chunk, so a sampled record is never half old, half new.
/// </summary>
internal sealed class ShardMirror(long capacity, int recordBytes)
{
    /// <summary>Records per segment (2^16: 2.6 MB for Pendulum's 40-byte records).</summary>
    public const int SegmentShift = 16;
    public const int SegmentRecords = 1 << SegmentShift;

    private readonly Lock _lock = new();
    private readonly byte[]?[] _segments = new byte[(capacity + SegmentRecords - 1) >> SegmentShift][];
    private long _fill;
    private long _generation;
    private ShardStats _lastStats;
    private bool _resync;

    public long Capacity { get; } = capacity;
    public int RecordBytes { get; } = recordBytes;

    /// <summary>Slots [0, Fill) hold records of this run and may be sampled.</summary>
    public long Fill => Volatile.Read(ref _fill);

    /// <summary>Bumped by every <see cref="Shrink"/>: a sampler that drew with an older generation draws again.</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>The shard's insert count ("total") the mirrored slots correspond to; touched only by the refill.</summary>
    public long Total { get; set; }

    /// <summary>Set when the shard may have changed behind the mirror's back (reconnect, failed read): re-read everything.</summary>
    public bool ResyncRequested
    {
        get => Volatile.Read(ref _resync);
        set => Volatile.Write(ref _resync, value);
    }

    /// <summary>Last counters read from the shard (kept while it is down; the rate limiter goes on with them).</summary>
    public ShardStats LastStats
    {
        get
        {
            lock (_lock) return _lastStats;
        }
        set
        {
            lock (_lock) _lastStats = value;
        }
    }

    /// <summary>Next slot the scrub re-reads; touched only under the refill's lock.</summary>
    public long ScrubCursor { get; set; }

    /// <summary>Bytes allocated so far.</summary>
    public long AllocatedBytes
    {
        get
        {
            long bytes = 0;
            lock (_lock)
            {
                foreach (var s in _segments) bytes += s?.Length ?? 0;
            }
            return bytes;
        }
    }

    /// <summary>Bytes the mirror holds once the ring is full.</summary>
    public long MaxBytes => Capacity * RecordBytes;

    /// <summary>Lowers the samplable fill (to 0 when the shard lost its data); samplers that raced with it draw again.</summary>
    public void Shrink(long fill)
    {
        lock (_lock)
        {
            if (fill >= _fill) return;
            Volatile.Write(ref _fill, fill);
            Volatile.Write(ref _generation, _generation + 1);
        }
    }

    /// <summary>Makes slots [0, fill) samplable once the refill has written them.</summary>
    public void Publish(long fill) => Volatile.Write(ref _fill, Math.Min(fill, Capacity));

    /// <summary>Writes records (each <see cref="RecordBytes"/> long, in slot order) starting at <paramref name="firstSlot"/>, wrapping at capacity.</summary>
    public void Write(long firstSlot, RedisValue[] records)
    {
        lock (_lock)
        {
            long slot = firstSlot;
            foreach (var record in records)
            {
                ((ReadOnlyMemory<byte>)record).Span.CopyTo(SlotForWrite(slot));
                if (++slot == Capacity) slot = 0;
            }
        }
    }

    /// <summary>Writes one record over a samplable slot; true when it differed from what was mirrored.</summary>
    public bool Overwrite(long slot, RedisValue record)
    {
        var bytes = ((ReadOnlyMemory<byte>)record).Span;
        lock (_lock)
        {
            if (slot >= _fill) return false;
            var target = SlotForRead(slot);
            if (target.SequenceEqual(bytes)) return false;
            bytes.CopyTo(target);
            return true;
        }
    }

    /// <summary>
    /// Copies the drawn slots of this shard (draws i with shardOf[i] == shard) into destination row i; false when the
    /// mirror shrank since <paramref name="generation"/> was read (the caller draws again).
    /// </summary>
    public bool CopyDraws(int shard, long generation, ReadOnlySpan<int> shardOf, ReadOnlySpan<long> slotOf, Span<byte> destination)
    {
        lock (_lock)
        {
            if (_generation != generation) return false;
            for (int i = 0; i < shardOf.Length; i++)
            {
                if (shardOf[i] != shard) continue;
                SlotForRead(slotOf[i]).CopyTo(destination.Slice(i * RecordBytes, RecordBytes));
            }
            return true;
        }
    }

    /// <summary>Copies one mirrored record (tests, diagnostics); false when the slot is not samplable.</summary>
    public bool TryCopy(long slot, Span<byte> destination)
    {
        lock (_lock)
        {
            if (slot < 0 || slot >= _fill) return false;
            SlotForRead(slot).CopyTo(destination);
            return true;
        }
    }

    private Span<byte> SlotForRead(long slot) =>
        _segments[slot >> SegmentShift].AsSpan((int)(slot & (SegmentRecords - 1)) * RecordBytes, RecordBytes);

    private Span<byte> SlotForWrite(long slot)
    {
        long index = slot >> SegmentShift;
        var segment = _segments[index];
        if (segment is null)
        {
            long records = Math.Min(SegmentRecords, Capacity - (index << SegmentShift));
            segment = _segments[index] = GC.AllocateUninitializedArray<byte>((int)(records * RecordBytes));
        }
        return segment.AsSpan((int)(slot & (SegmentRecords - 1)) * RecordBytes, RecordBytes);
    }
}
