namespace DistSac.Learner.Tests;

public sealed class WeightsVersionOffsetTests
{
    [Theory]
    [InlineData(0, 0, null, 0)]        // a new run
    [InlineData(0, 500, 500L, 1)]      // resumed from the checkpoint of the last publish: one above it
    [InlineData(0, 200, 900L, 701)]    // resumed from an older checkpoint: above the 900 published since
    [InlineData(0, 0, 900L, 901)]      // no checkpoint, versions in Redis
    [InlineData(1000, 300, 800L, 1000)] // the checkpoint's offset is ahead of Redis (shard 0 restarted empty): kept
    public void Resume_PublishesAboveEverythingStoredAndKeepsTheCheckpointsOffset(long checkpointOffset, long updates, long? stored, long expected)
    {
        long offset = WeightsVersionOffset.Resume(checkpointOffset, updates, stored);

        Assert.Equal(expected, offset);
        long firstVersion = offset + updates;
        if (stored is { } s)
        {
            Assert.True(firstVersion > s, $"first version {firstVersion} is not above the stored {s}");
            // Every stored record was acted on with a version <= s, so staleness (current version - record's) >= 1.
            Assert.True(firstVersion - s >= 1);
        }
        Assert.True(offset >= checkpointOffset, "the offset went backwards");
    }
}
