using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DistSac.Gateway;

/// <summary>
/// Process-wide gateway counters, updated lock-free on the push path and exported as the "DistSac.Gateway" meter
/// (dotnet-counters, OpenTelemetry) and through <see cref="Snapshot"/> for the status log line and tests.
/// </summary>
public sealed class GatewayCounters : IDisposable
{
    public const string MeterName = "DistSac.Gateway";

    private readonly Meter _meter;
    private long _pushes;
    private long _batchesStored;
    private long _transitionsStored;
    private long _rejected;
    private long _duplicates;
    private long _unavailable;
    private long _heldPushes;
    private long _holding;
    private long _heldTicks;
    private long _holdTimeouts;
    private long _weightStreams;
    private long _weightsSent;

    public GatewayCounters()
    {
        _meter = new Meter(MeterName);
        _meter.CreateObservableCounter("distsac.gateway.pushes", () => Volatile.Read(ref _pushes), "{push}", "Push calls received");
        _meter.CreateObservableCounter("distsac.gateway.transitions_stored", () => Volatile.Read(ref _transitionsStored), "{transition}", "Transitions written to the shards");
        _meter.CreateObservableCounter("distsac.gateway.rejected", () => Volatile.Read(ref _rejected), "{push}", "Pushes refused as invalid (nothing stored)");
        _meter.CreateObservableCounter("distsac.gateway.duplicates", () => Volatile.Read(ref _duplicates), "{push}", "Retried pushes acknowledged without storing");
        _meter.CreateObservableCounter("distsac.gateway.unavailable", () => Volatile.Read(ref _unavailable), "{push}", "Pushes answered Unavailable (Redis down, shutting down)");
        _meter.CreateObservableCounter("distsac.gateway.held_time", () => HeldSeconds, "s", "Time acknowledgements were held by the rate limiter");
        _meter.CreateObservableUpDownCounter("distsac.gateway.holding", () => Volatile.Read(ref _holding), "{push}", "Pushes held by the rate limiter right now");
        _meter.CreateObservableUpDownCounter("distsac.gateway.weight_streams", () => Volatile.Read(ref _weightStreams), "{stream}", "Open WatchWeights streams");
    }

    public long Pushes => Volatile.Read(ref _pushes);
    public long BatchesStored => Volatile.Read(ref _batchesStored);
    public long TransitionsStored => Volatile.Read(ref _transitionsStored);
    public long Rejected => Volatile.Read(ref _rejected);
    public long Duplicates => Volatile.Read(ref _duplicates);
    public long Unavailable => Volatile.Read(ref _unavailable);
    public long HeldPushes => Volatile.Read(ref _heldPushes);
    /// <summary>Pushes waiting on the rate limiter at this moment.</summary>
    public long Holding => Volatile.Read(ref _holding);
    public double HeldSeconds => Volatile.Read(ref _heldTicks) / (double)Stopwatch.Frequency;
    public long HoldTimeouts => Volatile.Read(ref _holdTimeouts);
    public long WeightStreams => Volatile.Read(ref _weightStreams);
    public long WeightsSent => Volatile.Read(ref _weightsSent);

    public GatewayCountersSnapshot Snapshot() => new(Pushes, BatchesStored, TransitionsStored, Rejected, Duplicates, Unavailable,
        HeldPushes, Holding, HeldSeconds, HoldTimeouts, WeightStreams, WeightsSent);

    internal void Push() => Interlocked.Increment(ref _pushes);
    internal void Stored(int transitions)
    {
        Interlocked.Increment(ref _batchesStored);
        Interlocked.Add(ref _transitionsStored, transitions);
    }
    internal void Reject() => Interlocked.Increment(ref _rejected);
    internal void Duplicate() => Interlocked.Increment(ref _duplicates);
    internal void Unreachable() => Interlocked.Increment(ref _unavailable);
    internal void HoldStarted() => Interlocked.Increment(ref _holding);
    internal void Held(long stopwatchTicks)
    {
        Interlocked.Decrement(ref _holding);
        Interlocked.Increment(ref _heldPushes);
        Interlocked.Add(ref _heldTicks, stopwatchTicks);
    }
    internal void HoldTimeout() => Interlocked.Increment(ref _holdTimeouts);
    internal void StreamOpened() => Interlocked.Increment(ref _weightStreams);
    internal void StreamClosed() => Interlocked.Decrement(ref _weightStreams);
    internal void WeightsSentOnce() => Interlocked.Increment(ref _weightsSent);

    public void Dispose() => _meter.Dispose();
}

public sealed record GatewayCountersSnapshot(
    long Pushes, long BatchesStored, long TransitionsStored, long Rejected, long Duplicates, long Unavailable,
    long HeldPushes, long Holding, double HeldSeconds, long HoldTimeouts, long WeightStreams, long WeightsSent);
