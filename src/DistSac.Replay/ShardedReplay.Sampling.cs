using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DistSac.Replay;

public sealed partial class ShardedReplay
{
    private const int SampleAttempts = 3;
    private static readonly TimeSpan FillsMaxAge = TimeSpan.FromSeconds(1);
    private static readonly RedisValue FillField = "fill";

    /// <summary>Per-shard fills seen last, refreshed by every sample's round trip (fills only grow until the ring is full).</summary>
    private sealed record FillSnapshot(long[] Fills, long Total, long Timestamp);

    private FillSnapshot? _fills;

    /// <summary>
    /// Draws <paramref name="batchSize"/> transitions uniformly (with replacement) over all stored transitions run-wide
    /// and writes them packed into <paramref name="destination"/> (at least batchSize * RecordBytes bytes), record i
    /// at offset i * RecordBytes. Each draw picks a global index in [0, total fill), i.e. a shard with probability
    /// proportional to its fill and a slot uniform within it, so per-shard counts are multinomial. One round trip per
    /// shard, all shards in parallel; the same round trip fetches the shard's fill for the next call, so the fills
    /// used lag by one call (or at most one second). Returns the per-shard fills used.
    /// </summary>
    /// <exception cref="ReplayEmptyException">No shard holds a transition yet.</exception>
    public Task<IReadOnlyList<long>> SampleAsync(int batchSize, Random random, Memory<byte> destination, CancellationToken ct) =>
        SampleAsync(batchSize, random, destination, null, ct);

    /// <inheritdoc cref="SampleAsync(int, Random, Memory{byte}, CancellationToken)"/>
    /// <param name="origins">When given (at least batchSize long), receives the shard and slot each record came from.</param>
    public async Task<IReadOnlyList<long>> SampleAsync(int batchSize, Random random, Memory<byte> destination, SampleOrigins? origins, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentNullException.ThrowIfNull(random);
        var metadata = await RequireMetadataAsync(ct).ConfigureAwait(false);
        int recordBytes = metadata.RecordBytes;
        if (destination.Length < (long)batchSize * recordBytes)
            throw new ArgumentException(
                $"destination has {destination.Length} bytes; {batchSize} records of {recordBytes} bytes need {(long)batchSize * recordBytes}.",
                nameof(destination));

        int[] shardOf = ArrayPool<int>.Shared.Rent(batchSize);
        long[] slotOf = ArrayPool<long>.Shared.Rent(batchSize);
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                var snapshot = await CurrentFillsAsync(refresh: attempt > 0, ct).ConfigureAwait(false);
                if (snapshot.Total == 0)
                    throw new ReplayEmptyException($"run '{Options.RunId}' has no stored transitions yet.");
                DrawUniformSlots(snapshot.Fills, snapshot.Total, batchSize, random, shardOf, slotOf);
                if (await FetchAsync(batchSize, recordBytes, shardOf, slotOf, destination, ct).ConfigureAwait(false))
                {
                    origins?.CopyFrom(shardOf, slotOf, batchSize);
                    return snapshot.Fills;
                }
                // A drawn slot was missing: a shard lost data (restart, flush). Re-read fills and draw again.
                if (attempt + 1 >= SampleAttempts)
                    throw new InvalidOperationException(
                        $"run '{Options.RunId}': sampled slots kept coming back empty after {SampleAttempts} attempts; a shard is being reset?");
                _logger.LogWarning("run {RunId}: a sampled slot was empty (shard restarted or flushed?); re-reading fills", Options.RunId);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(shardOf);
            ArrayPool<long>.Shared.Return(slotOf);
        }
    }

    /// <summary>
    /// Draws batchSize slots uniformly over every stored record: a number below the total of the fills, mapped to
    /// (shard, slot) by walking the fills in shard order. The Redis sampler and the learner's mirror share it.
    /// </summary>
    internal static void DrawUniformSlots(ReadOnlySpan<long> fills, long total, int batchSize, Random random, int[] shardOf, long[] slotOf)
    {
        for (int i = 0; i < batchSize; i++)
        {
            long r = random.NextInt64(total);
            int s = 0;
            while (r >= fills[s])
            {
                r -= fills[s];
                s++;
            }
            shardOf[i] = s;
            slotOf[i] = r;
        }
    }

    /// <summary>One HMGET (+ HGET fill, pipelined) per shard; copies record i to destination[i]. False when a slot was empty.</summary>
    private async Task<bool> FetchAsync(int batchSize, int recordBytes, int[] shardOf, long[] slotOf,
        Memory<byte> destination, CancellationToken ct)
    {
        int shardCount = ShardCount;
        var counts = new int[shardCount];
        for (int i = 0; i < batchSize; i++) counts[shardOf[i]]++;
        var fields = new RedisValue[shardCount][];
        for (int s = 0; s < shardCount; s++) fields[s] = counts[s] == 0 ? [] : new RedisValue[counts[s]];
        Array.Clear(counts);
        for (int i = 0; i < batchSize; i++)
        {
            int s = shardOf[i];
            fields[s][counts[s]++] = slotOf[i];
        }

        var tasks = new Task<(RedisValue[] Records, long Fill)>[shardCount];
        for (int s = 0; s < shardCount; s++)
            tasks[s] = FetchShardAsync(_shards[s], fields[s], ct);
        if (shardCount > 1)
            await Task.WhenAll(tasks).ConfigureAwait(false);

        var newFills = new long[shardCount];
        long newTotal = 0;
        var results = new RedisValue[shardCount][];
        for (int s = 0; s < shardCount; s++)
        {
            var (records, fill) = await tasks[s].ConfigureAwait(false);
            results[s] = records;
            newFills[s] = fill;
            newTotal += fill;
        }
        Volatile.Write(ref _fills, new FillSnapshot(newFills, newTotal, Stopwatch.GetTimestamp()));

        Array.Clear(counts);
        var span = destination.Span;
        for (int i = 0; i < batchSize; i++)
        {
            int s = shardOf[i];
            var value = results[s][counts[s]++];
            if (value.IsNull) return false;
            ReadOnlyMemory<byte> bytes = value;
            if (bytes.Length != recordBytes)
                throw new ReplayCorruptException(
                    $"run '{Options.RunId}' shard {s} slot {slotOf[i]} holds {bytes.Length} bytes, expected {recordBytes}; the record was written outside DistSac.");
            bytes.Span.CopyTo(span.Slice(i * recordBytes, recordBytes));
        }
        return true;
    }

    private static async Task<(RedisValue[] Records, long Fill)> FetchShardAsync(ReplayShard shard, RedisValue[] fields, CancellationToken ct)
    {
        // Both commands are written before either is awaited: one round trip.
        var records = fields.Length == 0 ? Task.FromResult(Array.Empty<RedisValue>()) : shard.Database.HashGetAsync(shard.Data, fields);
        var fill = shard.Database.HashGetAsync(shard.State, FillField);
        var r = await shard.Guard(records, ct).ConfigureAwait(false);
        var f = await shard.Guard(fill, ct).ConfigureAwait(false);
        return (r, ParseCounter(f, shard.Index, shard.State.ToString()!, "fill"));
    }

    private async ValueTask<FillSnapshot> CurrentFillsAsync(bool refresh, CancellationToken ct)
    {
        var cached = Volatile.Read(ref _fills);
        if (!refresh && cached is not null && cached.Total > 0 && Stopwatch.GetElapsedTime(cached.Timestamp) < FillsMaxAge)
            return cached;
        var stats = await ReadStatsAsync(ct).ConfigureAwait(false);
        var fills = new long[ShardCount];
        long total = 0;
        for (int s = 0; s < fills.Length; s++)
        {
            fills[s] = stats.Shards[s].Fill;
            total += fills[s];
        }
        var snapshot = new FillSnapshot(fills, total, Stopwatch.GetTimestamp());
        Volatile.Write(ref _fills, snapshot);
        return snapshot;
    }
}
