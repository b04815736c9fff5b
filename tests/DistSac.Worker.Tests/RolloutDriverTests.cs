using DistSac.Envs;

namespace DistSac.Worker.Tests;

public class RolloutDriverTests
{
    /// <summary>Keeps a copy of every batch it is handed and gives the same (cleared) batch back.</summary>
    private sealed class RecordingSink : ITransitionSink
    {
        public List<byte[]> Batches { get; } = [];

        public int Flushes { get; private set; }

        public Action<int>? OnHandOff { get; init; }

        public ValueTask<TransitionBatch> HandOffAsync(TransitionBatch full, CancellationToken cancellationToken)
        {
            Batches.Add(full.Records.ToArray());
            full.Clear();
            OnHandOff?.Invoke(Batches.Count);
            return ValueTask.FromResult(full);
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken)
        {
            Flushes++;
            return ValueTask.CompletedTask;
        }
    }

    private static RolloutLoop Loop(int envs, int simulatedStepCostMicroseconds = 0) =>
        new(new VectorEnvironment("Pendulum-v1", envs, 1), new PolicySlot(0), WorkerSeeds.For(1, "d"), simulatedStepCostMicroseconds);

    [Fact]
    public async Task Batches_CloseAtTheFirstVectorStepHoldingAtLeastM()
    {
        var loop = Loop(envs: 4);
        var sink = new RecordingSink();
        var driver = new RolloutDriver(loop, sink, batchTransitions: 10, TimeSpan.FromMinutes(1));
        using var batch = new TransitionBatch(loop.Layout.RecordBytes, RolloutDriver.BatchCapacity(10, 4));

        await driver.RunAsync(batch, maxSteps: 100, CancellationToken.None, CancellationToken.None);

        // 25 vector steps of 4: a batch closes after 3 steps (12 >= 10), so 8 full batches and a final 4.
        int recordBytes = loop.Layout.RecordBytes;
        Assert.Equal(new[] { 12, 12, 12, 12, 12, 12, 12, 12, 4 }, sink.Batches.Select(b => b.Length / recordBytes).ToArray());
        Assert.Equal(1, sink.Flushes);
    }

    [Fact]
    public async Task Batches_CloseOnTheFlushInterval_WhenMIsFarAway()
    {
        // Each step busy-waits 10 ms, so a 30 ms interval closes a batch after a few steps, long before M = 1000.
        var loop = Loop(envs: 1, simulatedStepCostMicroseconds: 10_000);
        var sink = new RecordingSink();
        var driver = new RolloutDriver(loop, sink, batchTransitions: 1000, TimeSpan.FromMilliseconds(30));
        using var batch = new TransitionBatch(loop.Layout.RecordBytes, RolloutDriver.BatchCapacity(1000, 1));

        await driver.RunAsync(batch, maxSteps: 20, CancellationToken.None, CancellationToken.None);

        int recordBytes = loop.Layout.RecordBytes;
        Assert.Equal(20, sink.Batches.Sum(b => b.Length / recordBytes));
        Assert.True(sink.Batches.Count >= 4, $"Expected the interval to close several batches, got {sink.Batches.Count}.");
        Assert.All(sink.Batches, b => Assert.InRange(b.Length / recordBytes, 1, 5));
    }

    [Fact]
    public async Task MaxSteps_EndsAfterTheVectorStepThatReachesIt()
    {
        var loop = Loop(envs: 3);
        var sink = new RecordingSink();
        var driver = new RolloutDriver(loop, sink, batchTransitions: 100, TimeSpan.FromMinutes(1));
        using var batch = new TransitionBatch(loop.Layout.RecordBytes, RolloutDriver.BatchCapacity(100, 3));

        await driver.RunAsync(batch, maxSteps: 10, CancellationToken.None, CancellationToken.None);

        Assert.Equal(12, loop.Steps);
        Assert.Equal(12 * loop.Layout.RecordBytes, Assert.Single(sink.Batches).Length);
    }

    [Fact]
    public async Task Stop_EndsStepping_AndStillDeliversThePartialBatch()
    {
        using var stop = new CancellationTokenSource();
        var loop = Loop(envs: 2);
        var sink = new RecordingSink { OnHandOff = count => { if (count == 3) stop.Cancel(); } };
        var driver = new RolloutDriver(loop, sink, batchTransitions: 8, TimeSpan.FromMinutes(1));
        using var batch = new TransitionBatch(loop.Layout.RecordBytes, RolloutDriver.BatchCapacity(8, 2));

        await driver.RunAsync(batch, maxSteps: 0, stop.Token, CancellationToken.None);

        // Three full batches of 8 stepped, then the stop; nothing stepped after it is lost or invented.
        int recordBytes = loop.Layout.RecordBytes;
        Assert.Equal(loop.Steps, sink.Batches.Sum(b => b.Length / recordBytes));
        Assert.Equal(24, loop.Steps);
        Assert.Equal(1, sink.Flushes);
    }

    [Fact]
    public async Task TooSmallBatch_IsRejectedUpFront()
    {
        var loop = Loop(envs: 4);
        var driver = new RolloutDriver(loop, new RecordingSink(), batchTransitions: 10, TimeSpan.FromMinutes(1));
        using var batch = new TransitionBatch(loop.Layout.RecordBytes, 10);

        await Assert.ThrowsAsync<ArgumentException>(() => driver.RunAsync(batch, 100, CancellationToken.None, CancellationToken.None));
    }
}
