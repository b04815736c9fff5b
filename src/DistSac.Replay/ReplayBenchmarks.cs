using System.Diagnostics;

namespace DistSac.Replay;

/// <summary>Throughput measurements against a connected, initialized run (used by `distsac bench sample|ingest`).</summary>
public static class ReplayBenchmarks
{
    /// <summary>Transitions <see cref="SampleBatchesPerSecondAsync"/> stores first when the run is empty.</summary>
    public const long DefaultFillTransitions = 200_000;

    /// <summary>
    /// Batches of <paramref name="batchSize"/> sampled per second by <paramref name="concurrency"/> concurrent samplers
    /// over <paramref name="duration"/>. An empty run is first filled with min(200k, total capacity) random records.
    /// </summary>
    public static async Task<double> SampleBatchesPerSecondAsync(ShardedReplay replay, int batchSize, TimeSpan duration, int concurrency, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(replay);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        var metadata = await replay.RequireMetadataAsync(ct).ConfigureAwait(false);
        var stats = await replay.ReadStatsAsync(ct).ConfigureAwait(false);
        if (stats.Fill == 0)
            await FillAsync(replay, Math.Min(DefaultFillTransitions, metadata.CapacityPerShard * replay.ShardCount), ct).ConfigureAwait(false);

        long batches = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        long started = Stopwatch.GetTimestamp();
        stop.CancelAfter(duration);
        var samplers = new Task[concurrency];
        for (int c = 0; c < concurrency; c++)
        {
            int seed = c;
            samplers[c] = Task.Run(async () =>
            {
                var random = new Random(seed);
                var buffer = new byte[batchSize * metadata.RecordBytes];
                while (!stop.IsCancellationRequested)
                {
                    await replay.SampleAsync(batchSize, random, buffer, CancellationToken.None).ConfigureAwait(false);
                    Interlocked.Increment(ref batches);
                }
            }, CancellationToken.None);
        }
        await Task.WhenAll(samplers).ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        return Interlocked.Read(ref batches) / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>
    /// Transitions stored per second by <paramref name="writers"/> concurrent writers, each pushing chunks of
    /// <paramref name="chunk"/> random records with its own worker id and increasing sequence numbers.
    /// </summary>
    public static async Task<double> InsertTransitionsPerSecondAsync(ShardedReplay replay, int chunk, int writers, TimeSpan duration, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(replay);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunk, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(writers, 1);
        var metadata = await replay.RequireMetadataAsync(ct).ConfigureAwait(false);
        var records = RandomRecords(metadata, chunk, seed: 7);
        string runTag = Guid.NewGuid().ToString("N")[..8];

        long stored = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        long started = Stopwatch.GetTimestamp();
        stop.CancelAfter(duration);
        var tasks = new Task[writers];
        for (int w = 0; w < writers; w++)
        {
            string workerId = $"bench-{runTag}-{w}";
            tasks[w] = Task.Run(async () =>
            {
                long sequence = 0;
                while (!stop.IsCancellationRequested)
                {
                    var result = await replay.InsertAsync(workerId, sequence++, records, chunk, CancellationToken.None).ConfigureAwait(false);
                    Interlocked.Add(ref stored, result.Stored);
                }
            }, CancellationToken.None);
        }
        await Task.WhenAll(tasks).ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        return Interlocked.Read(ref stored) / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>
    /// Inserts <paramref name="transitions"/> random, valid records spread evenly over the shards (chunks of up to 1024,
    /// one chunk per shard in flight at a time).
    /// </summary>
    public static async Task FillAsync(ShardedReplay replay, long transitions, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(replay);
        ArgumentOutOfRangeException.ThrowIfNegative(transitions);
        var metadata = await replay.RequireMetadataAsync(ct).ConfigureAwait(false);
        const int Chunk = 1024;
        var records = RandomRecords(metadata, Chunk, seed: 11);
        string workerId = "bench-fill-" + Guid.NewGuid().ToString("N")[..8];
        int shards = replay.ShardCount;
        var tasks = new Task[shards];
        for (int s = 0; s < shards; s++)
        {
            long share = transitions / shards + (s < transitions % shards ? 1 : 0);
            int shard = s;
            tasks[s] = Task.Run(async () =>
            {
                // Sequences shard, shard + S, shard + 2S, ... all land on this shard, increasing.
                long sequence = shard;
                for (long done = 0; done < share; done += Chunk, sequence += shards)
                {
                    int n = (int)Math.Min(Chunk, share - done);
                    await replay.InsertAsync(workerId, sequence, records.AsMemory(0, n * metadata.RecordBytes), n, ct).ConfigureAwait(false);
                }
            }, ct);
        }
        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    /// <summary>
    /// Records with random floats, terminated 0/1 and version 0, in the packed layout. Observations and actions in
    /// [-1, 1) and rewards in [-0.1, 0] lie inside Pendulum-v1's spaces, which a gateway checks pushes against.
    /// </summary>
    public static byte[] RandomRecords(ReplayMetadata metadata, int count, int seed)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var layout = new DistSac.Protocol.TransitionRecord(metadata.ObservationSize, metadata.ActionSize);
        var bytes = new byte[count * metadata.RecordBytes];
        var random = new Random(seed);
        var obs = new float[metadata.ObservationSize];
        var next = new float[metadata.ObservationSize];
        var action = new float[metadata.ActionSize];
        for (int i = 0; i < count; i++)
        {
            Fill(random, obs);
            Fill(random, next);
            Fill(random, action);
            layout.Write(bytes.AsSpan(i * metadata.RecordBytes, metadata.RecordBytes), obs, action, (float)(random.NextDouble() * -0.1),
                next, random.Next(2) == 1, 0);
        }
        return bytes;
    }

    private static void Fill(Random random, Span<float> values)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
    }
}
