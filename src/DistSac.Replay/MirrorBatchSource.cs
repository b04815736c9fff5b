using System.Collections.Concurrent;
using System.Diagnostics;

namespace DistSac.Replay;

/// <summary>
/// Batches drawn from a <see cref="ReplayMirror"/> on the caller's thread when asked for: a few microseconds of memory
/// copies, so nothing needs to be prefetched. Waits only while nothing is mirrored yet. Allocation-free once its one
/// or two batches exist.
/// </summary>
public sealed class MirrorBatchSource : IBatchSource
{
    private static readonly TimeSpan EmptyWait = TimeSpan.FromMilliseconds(50);
    private readonly ReplayMirror _mirror;
    private readonly Random _random;
    private readonly ConcurrentQueue<PrefetchedBatch> _free = new();

    public MirrorBatchSource(ReplayMirror mirror, int batchSize, long seed)
    {
        ArgumentNullException.ThrowIfNull(mirror);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _mirror = mirror;
        BatchSize = batchSize;
        _random = new Random(unchecked((int)seed) ^ (int)(seed >> 32));
    }

    public int BatchSize { get; }

    public async ValueTask<PrefetchedBatch> NextAsync(CancellationToken ct)
    {
        if (!_free.TryDequeue(out var batch)) batch = new PrefetchedBatch(BatchSize, _mirror.RecordBytes) { Owner = this };
        try
        {
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                _mirror.ThrowIfFailed();
                var refilled = _mirror.Refilled; // taken before sampling: a refill after it ends the wait at once
                long started = Stopwatch.GetTimestamp();
                long total = _mirror.Sample(BatchSize, _random, batch.Records, batch.Origins);
                if (total > 0)
                {
                    batch.SampleTime = Stopwatch.GetElapsedTime(started);
                    batch.TotalFill = total;
                    batch.Lent = true;
                    return batch;
                }
                await WakeSignal.WaitAsync(refilled, EmptyWait, TimeProvider.System, ct).ConfigureAwait(false);
            }
        }
        catch
        {
            _free.Enqueue(batch);
            throw;
        }
    }

    public void Return(PrefetchedBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (!ReferenceEquals(batch.Owner, this))
            throw new ArgumentException("batch belongs to another batch source.", nameof(batch));
        if (!batch.Lent)
            throw new InvalidOperationException("batch was already returned.");
        batch.Lent = false;
        _free.Enqueue(batch);
    }

    /// <summary>Nothing to stop: the mirror's owner disposes the mirror.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
