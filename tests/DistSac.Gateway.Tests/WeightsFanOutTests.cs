namespace DistSac.Gateway.Tests;

public sealed class WeightsFanOutTests
{
    [Fact]
    public async Task Subscribe_StartsWithTheLatestWeights()
    {
        var fanOut = new WeightsFanOut();
        fanOut.Publish(new WeightsSnapshot(1, [1]));
        fanOut.Publish(new WeightsSnapshot(2, [2]));

        using var subscription = fanOut.Subscribe();

        Assert.Equal(2, (await subscription.NextAsync(CancellationToken.None)).Version);
    }

    [Fact]
    public async Task ASlowSubscriber_GetsOnlyTheNewestVersionNeverABacklog()
    {
        var fanOut = new WeightsFanOut();
        using var slow = fanOut.Subscribe();

        for (long v = 1; v <= 100; v++) fanOut.Publish(new WeightsSnapshot(v, []));

        Assert.Equal(100, (await slow.NextAsync(CancellationToken.None)).Version);
        Assert.False(slow.TryNext(out _));
    }

    [Fact]
    public void Publish_IgnoresVersionsNotNewerThanTheLatest()
    {
        var fanOut = new WeightsFanOut();
        fanOut.Publish(new WeightsSnapshot(5, [5]));

        Assert.False(fanOut.Publish(new WeightsSnapshot(5, [6])));
        Assert.False(fanOut.Publish(new WeightsSnapshot(4, [4])));
        Assert.Equal(5, fanOut.Latest!.Version);
        Assert.Equal([5], fanOut.Latest.Actor);
    }

    [Fact]
    public void Dispose_RemovesTheSubscriber()
    {
        var fanOut = new WeightsFanOut();
        var subscription = fanOut.Subscribe();

        subscription.Dispose();

        Assert.Equal(0, fanOut.SubscriberCount);
    }
}
