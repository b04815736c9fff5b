using DistSac.Learning.Replay;

namespace DistSac.Learning.Tests;

public sealed class InMemoryReplayBufferTests
{
    private static readonly TransitionLayout Layout = new(ObservationSize: 2, ActionSize: 1);

    /// <summary>Adds transition number <paramref name="id"/>, whose reward is the id, so every row is identifiable.</summary>
    private static void AddTransition(InMemoryReplayBuffer buffer, int id) =>
        buffer.Add([id, -id], [0.5f * id], id, [id + 0.25f, -id - 0.25f], terminated: id % 2 == 1);

    private static float RewardOf(ReadOnlySpan<float> row) => row[Layout.RewardOffset];

    [Fact]
    public void TransitionLayout_WritesObservationActionRewardNextObservationTerminatedInOrder()
    {
        var row = new float[Layout.RowSize];

        Layout.Write(row, [1f, 2f], [3f], 4f, [5f, 6f], terminated: true);

        Assert.Equal(7, Layout.RowSize);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f, 1f], row);
        Assert.Equal((0, 2, 3, 4, 6), (Layout.ObservationOffset, Layout.ActionOffset, Layout.RewardOffset, Layout.NextObservationOffset, Layout.TerminatedOffset));
    }

    [Fact]
    public void Add_CountsUpToCapacityThenOverwritesTheOldestRowFirst()
    {
        var buffer = new InMemoryReplayBuffer(Layout, capacity: 4);

        for (int id = 0; id < 3; id++) AddTransition(buffer, id);
        Assert.Equal(3, buffer.Count);
        for (int id = 3; id < 10; id++) AddTransition(buffer, id);

        Assert.Equal(4, buffer.Count);
        Assert.Equal(10, buffer.TotalInserted);
        // Rows hold the four newest transitions (6..9), each in the slot id % capacity.
        for (int slot = 0; slot < 4; slot++)
        {
            int id = slot + (slot < 2 ? 8 : 4);
            Assert.Equal([id, -id, 0.5f * id, id, id + 0.25f, -id - 0.25f, id % 2], buffer.Row(slot).ToArray());
        }
    }

    [Fact]
    public void Sample_ReturnsOnlyStoredRowsWhileFilling()
    {
        var buffer = new InMemoryReplayBuffer(Layout, capacity: 100);
        for (int id = 1; id <= 5; id++) AddTransition(buffer, id);
        var batch = new float[256 * Layout.RowSize];

        buffer.Sample(new Random(1), 256, batch);

        var seen = new HashSet<float>();
        for (int i = 0; i < 256; i++)
        {
            var row = batch.AsSpan(i * Layout.RowSize, Layout.RowSize);
            float id = RewardOf(row);
            Assert.InRange(id, 1f, 5f);
            Assert.Equal(buffer.Row((int)id - 1).ToArray(), row.ToArray());
            seen.Add(id);
        }
        Assert.Equal(5, seen.Count);
    }

    [Theory]
    [InlineData(20, 20)]
    [InlineData(20, 53)]
    public void Sample_IsUniformOverStoredRows(int capacity, int inserted)
    {
        var buffer = new InMemoryReplayBuffer(Layout, capacity);
        for (int id = 0; id < inserted; id++) AddTransition(buffer, id);
        const int draws = 200, batchSize = 100;
        var counts = new Dictionary<float, int>();
        var batch = new float[batchSize * Layout.RowSize];
        var random = new Random(2);

        for (int d = 0; d < draws; d++)
        {
            buffer.Sample(random, batchSize, batch);
            for (int i = 0; i < batchSize; i++)
            {
                float id = RewardOf(batch.AsSpan(i * Layout.RowSize, Layout.RowSize));
                counts[id] = counts.GetValueOrDefault(id) + 1;
            }
        }

        // Exactly the newest `capacity` transitions, each drawn about draws * batchSize / capacity times:
        // chi-square with 19 degrees of freedom stays below 43.82 with probability 0.999.
        Assert.Equal(Enumerable.Range(inserted - capacity, capacity).Select(i => (float)i).Order(), counts.Keys.Order());
        double expected = (double)draws * batchSize / capacity;
        double chiSquare = counts.Values.Sum(c => (c - expected) * (c - expected) / expected);
        Assert.True(chiSquare < 43.82, $"chi-square {chiSquare:F1} with 19 degrees of freedom");
    }

    [Fact]
    public void Sample_FromAnEmptyBuffer_Throws()
    {
        var buffer = new InMemoryReplayBuffer(Layout, capacity: 4);

        Assert.Throws<InvalidOperationException>(() => buffer.Sample(new Random(3), 1, new float[Layout.RowSize]));
    }
}
