namespace DistSac.Learning.Replay;

/// <summary>
/// FIFO ring of transitions for single-process training. Unlike the seed notebook's buffer, the write position
/// advances on every insert, and sampling is uniform over the stored rows.
/// </summary>
public sealed class InMemoryReplayBuffer
{
    private readonly float[] _rows;
    private long _next;

    public InMemoryReplayBuffer(TransitionLayout layout, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Layout = layout;
        Capacity = capacity;
        _rows = new float[(long)capacity * layout.RowSize];
    }

    public TransitionLayout Layout { get; }
    public int Capacity { get; }
    public int Count { get; private set; }
    public long TotalInserted => _next;

    public void Add(ReadOnlySpan<float> observation, ReadOnlySpan<float> action, float reward, ReadOnlySpan<float> nextObservation, bool terminated)
    {
        var slot = (int)(_next % Capacity);
        Layout.Write(_rows.AsSpan(slot * Layout.RowSize, Layout.RowSize), observation, action, reward, nextObservation, terminated);
        _next++;
        if (Count < Capacity) Count++;
    }

    /// <summary>Copies <paramref name="batchSize"/> uniformly drawn rows (with replacement) into <paramref name="destination"/>.</summary>
    public void Sample(Random random, int batchSize, Span<float> destination)
    {
        if (Count == 0) throw new InvalidOperationException("Cannot sample from an empty replay buffer.");
        var row = Layout.RowSize;
        if (destination.Length < batchSize * row)
            throw new ArgumentException($"Destination holds {destination.Length} floats; {batchSize} rows need {batchSize * row}.", nameof(destination));
        for (int i = 0; i < batchSize; i++)
        {
            var slot = random.Next(Count);
            _rows.AsSpan(slot * row, row).CopyTo(destination.Slice(i * row, row));
        }
    }

    public ReadOnlySpan<float> Row(int slot) => _rows.AsSpan(slot * Layout.RowSize, Layout.RowSize);
}
