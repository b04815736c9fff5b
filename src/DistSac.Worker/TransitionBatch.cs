using System.Buffers;

namespace DistSac.Worker;

/// <summary>
/// Packed records on their way to the gateway, in a pooled array sized once for the largest batch. A batch is
/// filled by the rollout loop, then owned by the sink until acknowledged (its bytes travel without a copy), then
/// cleared and filled again.
/// </summary>
public sealed class TransitionBatch : IDisposable
{
    private byte[]? _buffer;

    public TransitionBatch(int recordBytes, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(recordBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        RecordBytes = recordBytes;
        Capacity = capacity;
        _buffer = ArrayPool<byte>.Shared.Rent(checked(recordBytes * capacity));
    }

    public int RecordBytes { get; }

    public int Capacity { get; }

    public int Count { get; private set; }

    /// <summary>Stopwatch timestamp of the first record since the last <see cref="Clear"/>; 0 when empty.</summary>
    public long FirstRecordTimestamp { get; private set; }

    public bool IsEmpty => Count == 0;

    public int FreeRecords => Capacity - Count;

    /// <summary>The packed records so far (Count * RecordBytes bytes).</summary>
    public ReadOnlyMemory<byte> Records => Buffer.AsMemory(0, Count * RecordBytes);

    private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(TransitionBatch));

    /// <summary>Reserves the next <paramref name="records"/> records and returns their bytes to write.</summary>
    public Span<byte> Append(int records, long timestamp)
    {
        if ((uint)records > (uint)FreeRecords)
        {
            throw new InvalidOperationException($"The batch has room for {FreeRecords} more records, not {records}.");
        }

        if (Count == 0)
        {
            FirstRecordTimestamp = timestamp;
        }

        var span = Buffer.AsSpan(Count * RecordBytes, records * RecordBytes);
        Count += records;
        return span;
    }

    public void Clear()
    {
        Count = 0;
        FirstRecordTimestamp = 0;
    }

    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
