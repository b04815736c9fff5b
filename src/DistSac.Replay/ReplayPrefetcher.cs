using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistSac.Replay;

/// <summary>
/// Keeps up to <c>depth</c> sampled batches ready so the learner never waits on a Redis round trip while the replay
/// holds data. Background sampling loops (one by default) fill a bounded channel; batches come from a small pool and
/// go back with <see cref="Return"/>. While the run has no metadata or no transitions the loops poll; a shard outage
/// is logged and retried with back-off; any other failure ends the prefetcher and <see cref="NextAsync"/> rethrows it.
/// </summary>
public sealed class ReplayPrefetcher : IBatchSource
{
    private static readonly TimeSpan EmptyPoll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    private readonly ShardedReplay _replay;
    private readonly ILogger _logger;
    private readonly Channel<PrefetchedBatch> _ready;
    private readonly ConcurrentQueue<PrefetchedBatch> _free = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _loops;
    private int _disposed;

    public ReplayPrefetcher(ShardedReplay replay, int batchSize, int depth, long seed, ILogger? logger = null)
        : this(replay, batchSize, depth, seed, logger, parallelism: 1)
    {
    }

    /// <param name="parallelism">Sampling loops running at once (each with its own Random seeded seed + i); more loops hide round-trip latency.</param>
    public ReplayPrefetcher(ShardedReplay replay, int batchSize, int depth, long seed, ILogger? logger, int parallelism)
    {
        ArgumentNullException.ThrowIfNull(replay);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        _replay = replay;
        BatchSize = batchSize;
        Depth = depth;
        _logger = logger ?? NullLogger.Instance;
        _ready = Channel.CreateBounded<PrefetchedBatch>(new BoundedChannelOptions(depth)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = parallelism == 1,
        });
        _loops = new Task[parallelism];
        for (int i = 0; i < parallelism; i++)
        {
            var random = new Random(unchecked((int)(seed + i)) ^ (int)((seed + i) >> 32));
            _loops[i] = Task.Run(() => RunAsync(random, _stop.Token));
        }
    }

    public int BatchSize { get; }
    public int Depth { get; }
    /// <summary>Batches ready right now (0 means the learner would wait).</summary>
    public int ReadyCount => _ready.Reader.CanCount ? _ready.Reader.Count : -1;

    /// <summary>The next ready batch; the caller must <see cref="Return"/> it when done.</summary>
    public async ValueTask<PrefetchedBatch> NextAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            var batch = await _ready.Reader.ReadAsync(ct).ConfigureAwait(false);
            batch.Lent = true;
            return batch;
        }
        catch (ChannelClosedException ex)
        {
            if (ex.InnerException is not null)
                throw new InvalidOperationException($"replay prefetcher stopped: {ex.InnerException.Message}", ex.InnerException);
            throw new ObjectDisposedException(nameof(ReplayPrefetcher));
        }
    }

    /// <summary>Hands a batch's buffer back to the pool.</summary>
    public void Return(PrefetchedBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (!ReferenceEquals(batch.Owner, this))
            throw new ArgumentException("batch belongs to another prefetcher.", nameof(batch));
        if (!batch.Lent)
            throw new InvalidOperationException("batch was already returned.");
        batch.Lent = false;
        _free.Enqueue(batch);
    }

    private async Task RunAsync(Random random, CancellationToken ct)
    {
        var backoff = TimeSpan.FromMilliseconds(50);
        try
        {
            var metadata = await WaitForRunAsync(ct).ConfigureAwait(false);
            while (!ct.IsCancellationRequested)
            {
                var batch = Rent(metadata.RecordBytes);
                try
                {
                    long started = Stopwatch.GetTimestamp();
                    var fills = await _replay.SampleAsync(BatchSize, random, batch.Records, batch.Origins, ct).ConfigureAwait(false);
                    batch.SampleTime = Stopwatch.GetElapsedTime(started);
                    long total = 0;
                    for (int s = 0; s < fills.Count; s++) total += fills[s];
                    batch.TotalFill = total;
                    backoff = TimeSpan.FromMilliseconds(50);
                }
                catch (ReplayEmptyException)
                {
                    _free.Enqueue(batch);
                    await Task.Delay(EmptyPoll, ct).ConfigureAwait(false);
                    continue;
                }
                catch (ReplayUnavailableException ex)
                {
                    _free.Enqueue(batch);
                    _logger.LogWarning("replay prefetch: {Message}; retrying in {Backoff} ms", ex.Message, backoff.TotalMilliseconds);
                    await Task.Delay(backoff, ct).ConfigureAwait(false);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                    continue;
                }
                catch
                {
                    _free.Enqueue(batch);
                    throw;
                }
                await _ready.Writer.WriteAsync(batch, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "replay prefetch failed");
            _ready.Writer.TryComplete(ex);
        }
    }

    private async Task<ReplayMetadata> WaitForRunAsync(CancellationToken ct)
    {
        while (true)
        {
            var metadata = _replay.Metadata ?? await _replay.ReadMetadataAsync(ct).ConfigureAwait(false);
            if (metadata is not null) return metadata;
            await Task.Delay(EmptyPoll, ct).ConfigureAwait(false);
        }
    }

    private PrefetchedBatch Rent(int recordBytes)
    {
        if (_free.TryDequeue(out var batch)) return batch;
        return new PrefetchedBatch(BatchSize, recordBytes) { Owner = this };
    }

    /// <summary>Stops the sampling loops and waits for them; batches still lent stay valid but are not pooled again.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).ConfigureAwait(false);
        _ready.Writer.TryComplete();
        while (_ready.Reader.TryRead(out var batch)) _free.Enqueue(batch);
        _stop.Dispose();
    }
}
