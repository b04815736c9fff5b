namespace DistSac.Learner.Tests;

/// <summary>The update loop's background counter read: one in flight, taken once it has arrived.</summary>
public sealed class PendingReadTests
{
    [Fact]
    public void One_read_at_a_time_and_its_result_is_taken_once_after_it_arrived()
    {
        var pending = new PendingRead<int>();
        var reply = new TaskCompletionSource<int>();
        int started = 0;
        pending.Start(() => { started++; return reply.Task; });
        pending.Start(() => { started++; return Task.FromResult(99); });

        Assert.Equal(1, started);
        Assert.True(pending.InFlight);
        Assert.False(pending.TryTake(out _));

        reply.SetResult(7);
        Assert.True(pending.TryTake(out var value));
        Assert.Equal(7, value);
        Assert.False(pending.InFlight);
        Assert.False(pending.TryTake(out _));
    }

    [Fact]
    public async Task A_failed_read_is_rethrown_where_it_is_taken_or_drained_and_then_forgotten()
    {
        var pending = new PendingRead<int>();
        pending.Start(() => Task.FromException<int>(new TimeoutException("shard 0")));
        Assert.Throws<TimeoutException>(() => pending.TryTake(out _));
        Assert.False(pending.InFlight);

        pending.Start(() => Task.FromException<int>(new TimeoutException("shard 1")));
        var e = await Assert.ThrowsAsync<TimeoutException>(pending.DrainAsync);
        Assert.Equal("shard 1", e.Message);
        await pending.DrainAsync(); // nothing in flight any more
    }
}
