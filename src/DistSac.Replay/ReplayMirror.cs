using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace DistSac.Replay;

/// <summary>
/// A learner-local copy of every shard's ring (see docs/replay-layout.md, "Sample: from the learner's mirror"), so a
/// batch is drawn from memory instead of one Redis round trip per batch. Redis stays the durable, shared store.
/// <para>
/// Refill: the insert script keeps each shard's "total" and writes insert number k to slot k mod capacity, so the mirror
/// reads only positions [its total, the shard's total) with HMGETs of <see cref="ChunkRecords"/> slots (all of the ring
/// when more than a capacity was inserted since). A total that went down (restart without persistence, flush) drops
/// the shard's mirror and refills it; a reconnect or a failed read re-reads the whole ring. One background loop per
/// shard refills when the shard PUBLISHes an insert, and every <see cref="Reconcile"/> anyway.
/// </para>
/// <para>
/// Sampling (<see cref="Sample"/>): uniform with replacement over every mirrored record of every shard, a global index
/// in [0, sum of mirrored fills). While a shard is down its mirrored records stay samplable (as of its last refill).
/// Allocation-free.
/// </para>
/// </summary>
public sealed class ReplayMirror : IAsyncDisposable
{
    /// <summary>Slots per HMGET of a refill.</summary>
    public const int ChunkRecords = 4096;
    /// <summary>HMGETs of one shard's refill in flight at once.</summary>
    private const int ChunksInFlight = 4;
    /// <summary>Safety net for a lost insert message (pub/sub drops them while a connection is down).</summary>
    public static readonly TimeSpan Reconcile = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan DownRetry = TimeSpan.FromMilliseconds(500);
    /// <summary>Slots the scrub re-reads per <see cref="Reconcile"/> tick: ~10k records/s, a full pass over a 1M ring in ~100 s.</summary>
    public const int ScrubRecords = 1024;

    private readonly ShardedReplay _replay;
    private readonly ShardMirror[] _mirrors;
    private readonly SemaphoreSlim[] _refillLocks;
    private readonly WakeSignal[] _inserted;
    private readonly WakeSignal _refilled = new();
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly EventHandler<ConnectionFailedEventArgs>[] _onRestored;
    private Task[] _loops = [];
    private Exception? _failure;
    private long _refilledRecords;
    private int _disposed;

    public ReplayMirror(ShardedReplay replay, ReplayMetadata metadata, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(replay);
        ArgumentNullException.ThrowIfNull(metadata);
        _replay = replay;
        _logger = logger ?? NullLogger.Instance;
        RecordBytes = metadata.RecordBytes;
        Capacity = metadata.CapacityPerShard;
        int shards = replay.ShardCount;
        _mirrors = new ShardMirror[shards];
        _refillLocks = new SemaphoreSlim[shards];
        _inserted = new WakeSignal[shards];
        _onRestored = new EventHandler<ConnectionFailedEventArgs>[shards];
        for (int s = 0; s < shards; s++)
        {
            var mirror = _mirrors[s] = new ShardMirror(Capacity, RecordBytes);
            _refillLocks[s] = new SemaphoreSlim(1, 1);
            _inserted[s] = new WakeSignal();
            var wake = _inserted[s];
            // A reconnect may be a restart (with or without persistence): re-read the whole ring.
            _onRestored[s] = (_, _) =>
            {
                mirror.ResyncRequested = true;
                wake.Set();
            };
            replay.ShardAt(s).Connection.ConnectionRestored += _onRestored[s];
        }
    }

    public int ShardCount => _mirrors.Length;
    public int RecordBytes { get; }
    public long Capacity { get; }

    /// <summary>Bytes the mirror holds once every ring is full: shards x capacity x record size.</summary>
    public long MaxBytes => (long)ShardCount * Capacity * RecordBytes;

    /// <summary>Bytes allocated so far (segments are allocated as the fill reaches them).</summary>
    public long AllocatedBytes
    {
        get
        {
            long bytes = 0;
            foreach (var m in _mirrors) bytes += m.AllocatedBytes;
            return bytes;
        }
    }

    /// <summary>Records copied from Redis since start (refill throughput = its growth over time).</summary>
    public long RefilledRecords => Interlocked.Read(ref _refilledRecords);

    /// <summary>Completes after the next refill pass of any shard (or when the mirror failed).</summary>
    public Task Refilled => _refilled.Next;

    /// <summary>Samplable records of shard i.</summary>
    public long Fill(int shard) => _mirrors[shard].Fill;

    /// <summary>Samplable records over all shards.</summary>
    public long TotalFill
    {
        get
        {
            long total = 0;
            foreach (var m in _mirrors) total += m.Fill;
            return total;
        }
    }

    /// <summary>The insert count of shard i that its mirror corresponds to.</summary>
    public long MirroredTotal(int shard) => _mirrors[shard].Total;

    /// <summary>Copies mirrored slot <paramref name="slot"/> of a shard; false when it is not (yet) samplable.</summary>
    public bool TryCopyRecord(int shard, long slot, Span<byte> destination)
    {
        if (destination.Length < RecordBytes)
            throw new ArgumentException($"destination has {destination.Length} bytes; a record has {RecordBytes}.", nameof(destination));
        return _mirrors[shard].TryCopy(slot, destination[..RecordBytes]);
    }

    /// <summary>Starts the background refill loops (one per shard).</summary>
    public void Start()
    {
        if (_loops.Length != 0) throw new InvalidOperationException("the mirror's refill loops already run.");
        _logger.LogInformation(
            "replay mirror: {Shards} shard(s) x {Capacity} records x {RecordBytes} bytes = {MiB:F1} MiB at most in the learner's memory " +
            "(allocated as the rings fill; Learner:Sampling = redis samples from Redis instead)",
            ShardCount, Capacity, RecordBytes, MaxBytes / (1024.0 * 1024.0));
        var loops = new Task[ShardCount];
        for (int s = 0; s < loops.Length; s++)
        {
            int shard = s;
            loops[s] = Task.Run(() => RunAsync(shard, _stop.Token));
        }
        _loops = loops;
    }

    /// <summary>Throws the error that stopped the refill (a corrupt shard), if any.</summary>
    public void ThrowIfFailed()
    {
        var failure = Volatile.Read(ref _failure);
        if (failure is not null)
            throw new InvalidOperationException($"replay mirror stopped: {failure.Message}", failure);
    }

    /// <summary>One refill of every shard now, in parallel (tests, benchmarks; the loops do this by themselves). Returns records read.</summary>
    public async Task<long> RefillAsync(CancellationToken ct)
    {
        var tasks = new Task<long>[ShardCount];
        for (int s = 0; s < tasks.Length; s++) tasks[s] = RefillShardAsync(s, ct);
        long read = 0;
        foreach (var n in await Task.WhenAll(tasks).ConfigureAwait(false)) read += n;
        return read;
    }

    /// <summary>
    /// Draws <paramref name="batchSize"/> records uniformly with replacement over all mirrored records and writes them
    /// packed into <paramref name="destination"/> (record i at i * RecordBytes). Returns the number of records it drew
    /// from (the sum of fills), 0 when nothing is mirrored yet (destination untouched). No allocation, no I/O.
    /// </summary>
    public long Sample(int batchSize, Random random, Span<byte> destination, SampleOrigins? origins = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentNullException.ThrowIfNull(random);
        if (destination.Length < (long)batchSize * RecordBytes)
            throw new ArgumentException(
                $"destination has {destination.Length} bytes; {batchSize} records of {RecordBytes} bytes need {(long)batchSize * RecordBytes}.",
                nameof(destination));
        int shards = _mirrors.Length;
        Span<long> fills = shards <= 64 ? stackalloc long[shards] : new long[shards];
        Span<long> generations = shards <= 64 ? stackalloc long[shards] : new long[shards];
        int[] shardOf = ArrayPool<int>.Shared.Rent(batchSize);
        long[] slotOf = ArrayPool<long>.Shared.Rent(batchSize);
        try
        {
            while (true)
            {
                long total = 0;
                for (int s = 0; s < shards; s++)
                {
                    // Generation first: a shrink writes the fill before the generation, so a new generation implies the new fill.
                    generations[s] = _mirrors[s].Generation;
                    fills[s] = _mirrors[s].Fill;
                    total += fills[s];
                }
                if (total == 0) return 0;
                ShardedReplay.DrawUniformSlots(fills, total, batchSize, random, shardOf, slotOf);
                bool copied = true;
                for (int s = 0; s < shards && copied; s++)
                {
                    if (fills[s] > 0)
                        copied = _mirrors[s].CopyDraws(s, generations[s], shardOf.AsSpan(0, batchSize), slotOf.AsSpan(0, batchSize), destination);
                }
                if (!copied) continue; // a shard's mirror was dropped while drawing: draw again from the new fills
                origins?.CopyFrom(shardOf, slotOf, batchSize);
                return total;
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(shardOf);
            ArrayPool<long>.Shared.Return(slotOf);
        }
    }

    /// <summary>
    /// Fresh counters of every shard, as <see cref="ShardedReplay.ReadStatsAsync"/>, except that a shard that cannot
    /// be reached contributes its last counters read (nothing can be inserted into it while it is down) and is listed
    /// in <see cref="MirroredStats.Unavailable"/> instead of failing the read.
    /// </summary>
    public async Task<MirroredStats> ReadStatsAsync(CancellationToken ct)
    {
        var tasks = new Task<ShardStats>[ShardCount];
        for (int s = 0; s < tasks.Length; s++) tasks[s] = ShardedReplay.ReadShardStatsAsync(_replay.ShardAt(s), ct);
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // Examined per shard below.
        }
        var stats = new ShardStats[tasks.Length];
        List<ReplayUnavailableException>? down = null;
        for (int s = 0; s < tasks.Length; s++)
        {
            if (tasks[s].IsCompletedSuccessfully)
            {
                stats[s] = tasks[s].Result;
                _mirrors[s].LastStats = stats[s];
            }
            else if (tasks[s].Exception?.InnerException is ReplayUnavailableException unavailable)
            {
                stats[s] = _mirrors[s].LastStats with { Shard = s };
                (down ??= []).Add(unavailable);
            }
            else
            {
                await tasks[s].ConfigureAwait(false); // rethrows (a corrupt counter, a cancellation)
            }
        }
        return new MirroredStats(new ReplayStats(stats), down ?? (IReadOnlyList<ReplayUnavailableException>)[]);
    }

    private async Task RunAsync(int shard, CancellationToken ct)
    {
        var replayShard = _replay.ShardAt(shard);
        var wake = _inserted[shard];
        ChannelMessageQueue? subscription = null;
        bool down = false;
        long lastScrub = Stopwatch.GetTimestamp();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var next = wake.Next; // taken before the read: an insert after it wakes the next pass
                try
                {
                    subscription ??= await SubscribeAsync(replayShard, wake, ct).ConfigureAwait(false);
                    await RefillShardAsync(shard, ct).ConfigureAwait(false);
                    if (Stopwatch.GetElapsedTime(lastScrub) >= Reconcile)
                    {
                        lastScrub = Stopwatch.GetTimestamp();
                        await ScrubShardAsync(shard, ct).ConfigureAwait(false);
                    }
                    if (down)
                        _logger.LogInformation("replay mirror: shard {Shard} at {Endpoint} reachable again; refilling its mirror", shard, replayShard.Endpoint);
                    down = false;
                }
                catch (ReplayUnavailableException ex)
                {
                    _mirrors[shard].ResyncRequested = true;
                    if (!down)
                        _logger.LogWarning("replay mirror: {Message}; sampling goes on from the {Fill} records mirrored from it and from the other shards",
                            ex.Message, _mirrors[shard].Fill);
                    down = true;
                }
                _refilled.Set();
                await WakeSignal.WaitAsync(next, down ? DownRetry : Reconcile, TimeProvider.System, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "replay mirror: refilling shard {Shard} failed", shard);
            Volatile.Write(ref _failure, ex);
            _refilled.Set();
        }
        finally
        {
            if (subscription is not null)
            {
                try
                {
                    await subscription.UnsubscribeAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
                {
                    // The connection is going away with the replay.
                }
            }
        }
    }

    private static async Task<ChannelMessageQueue> SubscribeAsync(ReplayShard shard, WakeSignal wake, CancellationToken ct)
    {
        var channel = RedisChannel.Literal((string)shard.InsertedChannel!);
        var queue = await shard.Guard(shard.Connection.GetSubscriber().SubscribeAsync(channel), ct).ConfigureAwait(false);
        queue.OnMessage(_ => wake.Set());
        return queue;
    }

    /// <summary>Reads what shard <paramref name="shard"/> stored since the mirror's last read; returns the records read.</summary>
    private async Task<long> RefillShardAsync(int shard, CancellationToken ct)
    {
        var gate = _refillLocks[shard];
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await RefillShardLockedAsync(shard, ct).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<long> RefillShardLockedAsync(int shard, CancellationToken ct)
    {
        var replayShard = _replay.ShardAt(shard);
        var mirror = _mirrors[shard];
        var stats = await ShardedReplay.ReadShardStatsAsync(replayShard, ct).ConfigureAwait(false);
        mirror.LastStats = stats;
        long total = stats.TotalInserted;
        long from = mirror.Total;
        if (total < from)
        {
            _logger.LogWarning("replay mirror: shard {Shard} insert count went down from {Before} to {After} (restarted without persistence or flushed); its mirror is dropped and refilled",
                shard, from, total);
            mirror.Shrink(0);
            from = mirror.Total = 0;
            mirror.ResyncRequested = false; // everything stored is read below anyway
        }
        else if (mirror.ResyncRequested)
        {
            // Reconnected (maybe restarted): re-read the whole ring; what is mirrored stays samplable meanwhile.
            mirror.ResyncRequested = false;
            mirror.Shrink(Math.Min(total, Capacity));
            from = 0;
        }
        long first = Math.Max(from, total - Capacity);
        if (first >= total)
        {
            mirror.Publish(total);
            return 0;
        }

        var pending = new Queue<(long First, Task<RedisValue[]> Values)>(ChunksInFlight);
        long next = first;
        while (next < total || pending.Count > 0)
        {
            while (next < total && pending.Count < ChunksInFlight)
            {
                int n = (int)Math.Min(ChunkRecords, total - next);
                var fields = new RedisValue[n];
                long slot = next % Capacity;
                for (int k = 0; k < n; k++)
                {
                    fields[k] = slot;
                    if (++slot == Capacity) slot = 0;
                }
                pending.Enqueue((next, replayShard.Database.HashGetAsync(replayShard.Data, fields)));
                next += n;
            }
            var (chunkFirst, task) = pending.Dequeue();
            var values = await replayShard.Guard(task, ct).ConfigureAwait(false);
            if (!Valid(shard, chunkFirst, values))
            {
                // The counters say stored, the slot is empty: the shard lost its data after the counters were read
                // (restart, flush). Drop the mirror; the next pass reads the counters again.
                while (pending.Count > 0) _ = pending.Dequeue().Values.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
                mirror.Shrink(0);
                mirror.Total = 0;
                return 0;
            }
            mirror.Write(chunkFirst % Capacity, values);
        }
        mirror.Total = total;
        mirror.Publish(total);
        Interlocked.Add(ref _refilledRecords, total - first);
        return total - first;
    }

    /// <summary>
    /// Re-reads the next <see cref="ScrubRecords"/> mirrored slots of a shard and overwrites the mirror with them, a
    /// sweep over the ring that repairs what the cursor cannot see: records changed in Redis outside the insert script
    /// (DistSac never does that; an operator or a stray client can), or a shard restarted and refilled past its old
    /// count between two refills. Serialized with the refill, so an insert after the read is written again by the
    /// refill that follows.
    /// </summary>
    public async Task<long> ScrubShardAsync(int shard, CancellationToken ct)
    {
        var gate = _refillLocks[shard];
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var mirror = _mirrors[shard];
            long fill = mirror.Fill;
            if (fill == 0) return 0;
            long first = mirror.ScrubCursor % fill;
            int n = (int)Math.Min(ScrubRecords, fill - first);
            var fields = new RedisValue[n];
            for (int k = 0; k < n; k++) fields[k] = first + k;
            var replayShard = _replay.ShardAt(shard);
            var values = await replayShard.Guard(replayShard.Database.HashGetAsync(replayShard.Data, fields), ct).ConfigureAwait(false);
            long repaired = 0;
            for (int k = 0; k < n; k++)
            {
                // A missing slot is the counters' business (the next refill notices a shard that lost its data).
                if (values[k].IsNull) continue;
                Check(shard, first + k, values[k]);
                if (mirror.Overwrite(first + k, values[k])) repaired++;
            }
            mirror.ScrubCursor = first + n;
            if (repaired > 0)
                _logger.LogWarning("replay mirror: shard {Shard}: {Repaired} of slots {First}..{Last} differed from Redis (written outside the insert script?); mirror repaired",
                    shard, repaired, first, first + n - 1);
            return repaired;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>False when a slot is missing; a record of the wrong size is <see cref="ReplayCorruptException"/>.</summary>
    private bool Valid(int shard, long firstPosition, RedisValue[] values)
    {
        for (int k = 0; k < values.Length; k++)
        {
            var value = values[k];
            long slot = (firstPosition + k) % Capacity;
            if (value.IsNull)
            {
                _logger.LogWarning("replay mirror: shard {Shard} slot {Slot} is empty although its counters say it is stored (shard restarted or flushed?); refilling its mirror",
                    shard, slot);
                return false;
            }
            Check(shard, slot, value);
        }
        return true;
    }

    private void Check(int shard, long slot, RedisValue value)
    {
        long length = value.Length();
        if (length != RecordBytes)
            throw new ReplayCorruptException(string.Create(CultureInfo.InvariantCulture,
                $"run '{_replay.Options.RunId}' shard {shard} slot {slot} holds {length} bytes, expected {RecordBytes}; the record was written outside DistSac."));
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).ConfigureAwait(false);
        for (int s = 0; s < _mirrors.Length; s++)
            _replay.ShardAt(s).Connection.ConnectionRestored -= _onRestored[s];
        foreach (var gate in _refillLocks) gate.Dispose();
        _stop.Dispose();
    }
}

/// <summary>Counters of every shard; a shard that could not be reached contributes its last counters read.</summary>
public sealed record MirroredStats(ReplayStats Stats, IReadOnlyList<ReplayUnavailableException> Unavailable);
