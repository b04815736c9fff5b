using System.Diagnostics;

namespace DistSac.Worker;

/// <summary>
/// The worker's main loop: step, and hand the batch to the sink once it holds at least M transitions or its first
/// transition is T old, whichever comes first (checked at vector-step boundaries, so a batch holds at most
/// M + E - 1 transitions). On stop it hands off the last partial batch and waits for the acknowledgements.
/// </summary>
public sealed class RolloutDriver
{
    private readonly RolloutLoop _loop;
    private readonly ITransitionSink _sink;
    private readonly int _batchTransitions;
    private readonly long _flushIntervalTicks;
    private readonly Action<long>? _onStep;

    /// <param name="onStep">Called after every vector step with the current timestamp (progress reporting).</param>
    public RolloutDriver(RolloutLoop loop, ITransitionSink sink, int batchTransitions, TimeSpan flushInterval, Action<long>? onStep = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchTransitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(flushInterval, TimeSpan.Zero);
        _loop = loop;
        _sink = sink;
        _batchTransitions = batchTransitions;
        _flushIntervalTicks = (long)(flushInterval.TotalSeconds * Stopwatch.Frequency);
        _onStep = onStep;
    }

    /// <summary>Records a batch must have room for: the largest batch the hand-off rule can produce.</summary>
    public static int BatchCapacity(int batchTransitions, int environments) => batchTransitions + environments - 1;

    /// <summary>
    /// Steps until <paramref name="stop"/> is cancelled or <paramref name="maxSteps"/> environment steps are taken
    /// (0 = no limit), then delivers what is left. Hand-offs after the stop, and the final wait, run under
    /// <paramref name="flush"/>, which the owner bounds (the shutdown deadline).
    /// </summary>
    /// <param name="batch">An empty batch of at least <see cref="BatchCapacity"/> records, owned by the caller.</param>
    public async Task RunAsync(TransitionBatch batch, long maxSteps, CancellationToken stop, CancellationToken flush)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(maxSteps);
        int environments = _loop.EnvironmentCount;
        if (batch.Capacity < BatchCapacity(_batchTransitions, environments))
        {
            throw new ArgumentException($"The batch holds {batch.Capacity} records; M = {_batchTransitions} with {environments} environments needs {BatchCapacity(_batchTransitions, environments)}.", nameof(batch));
        }

        while (!stop.IsCancellationRequested && (maxSteps == 0 || _loop.Steps < maxSteps))
        {
            long now = Stopwatch.GetTimestamp();
            _loop.Step(batch, now);
            if (batch.Count >= _batchTransitions || now - batch.FirstRecordTimestamp >= _flushIntervalTicks)
            {
                try
                {
                    batch = await _sink.HandOffAsync(batch, stop);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    // Stopped while waiting for back-pressure to lift: the batch was not taken; it goes in the final flush.
                    break;
                }
            }

            _onStep?.Invoke(now);
        }

        if (!batch.IsEmpty)
        {
            await _sink.HandOffAsync(batch, flush);
        }

        await _sink.FlushAsync(flush);
    }
}
