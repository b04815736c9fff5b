using System.Globalization;
using DistSac.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace DistSac.Replay;

/// <summary>
/// The replay buffer spread over S Redis instances (see docs/replay-layout.md): per shard a FIFO ring stored as a hash
/// slot -> packed record, a small state hash (cursor, fill, total) and a dedup hash ((worker, incarnation) -> sequences).
/// Run-level keys (metadata, weights, learner progress, workers) are kept on every shard (ShardedReplay.Replicas.cs). Thread-safe.
/// </summary>
public sealed partial class ShardedReplay : IAsyncDisposable
{
    private readonly ReplayShard[] _shards;
    private readonly ILogger _logger;
    private readonly RedisKey _metaKey;
    private ReplayMetadata? _metadata;
    private StoredRateLimit? _lastRateLimit;
    private int _disposed;

    private ShardedReplay(ReplayOptions options, ReplayShard[] shards, ILogger logger, ShardReaderThreads readers)
    {
        Options = options;
        ReaderThreads = readers;
        _shards = shards;
        _logger = logger;
        _metaKey = RunKeys.Meta(options.RunId);
        _runStateMissed = new int[shards.Length];
    }

    public ReplayOptions Options { get; }
    public int ShardCount => _shards.Length;

    /// <summary>Which threads read this connection's replies (set at connect).</summary>
    public ShardReaderThreads ReaderThreads { get; }

    /// <summary>The run's metadata once initialized or read (null before).</summary>
    public ReplayMetadata? Metadata => Volatile.Read(ref _metadata);

    /// <summary>Endpoint of shard i, as configured.</summary>
    public string ShardEndpoint(int shard) => _shards[shard].Endpoint;

    /// <summary>Shard i's connection and keys (the learner's mirror reads each shard itself).</summary>
    internal ReplayShard ShardAt(int shard) => _shards[shard];

    /// <summary>
    /// Connects to every shard in parallel. A shard unreachable for <see cref="StartupConnectGrace"/> fails with
    /// <see cref="ReplayUnavailableException"/> naming it.
    /// </summary>
    public static Task<ShardedReplay> ConnectAsync(ReplayOptions options, ILogger? logger, CancellationToken ct) =>
        ConnectAsync(options, logger, ShardReaderThreads.Dedicated, ct);

    /// <inheritdoc cref="ConnectAsync(ReplayOptions, ILogger?, CancellationToken)"/>
    /// <param name="readers">Which threads read the replies; <see cref="ShardReaderThreads.ThreadPool"/> only in a process that never blocks pool threads.</param>
    public static async Task<ShardedReplay> ConnectAsync(ReplayOptions options, ILogger? logger, ShardReaderThreads readers, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var started = System.Diagnostics.Stopwatch.StartNew();
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await ConnectOnceAsync(options, logger, readers, ct).ConfigureAwait(false);
            }
            catch (ReplayUnavailableException e) when (started.Elapsed < StartupConnectGrace || attempt < MinStartupConnectAttempts)
            {
                if (attempt == 1)
                    (logger ?? NullLogger.Instance).LogWarning("{Reason}; retrying for up to {Seconds:F0} s (at least {Attempts} attempts) before giving up",
                        e.Message, StartupConnectGrace.TotalSeconds, MinStartupConnectAttempts);
                await Task.Delay(StartupConnectRetryInterval, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// How long an unreachable shard is retried at start before the error is final. Roles start in any order (pods,
    /// containers whose network names resolve a moment after they start: seen once in the images test); a wrong address
    /// still fails, a few seconds later, with the same message.
    /// </summary>
    public static readonly TimeSpan StartupConnectGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Attempts made at start however long each took: one attempt can use up the whole grace when the connect times out
    /// (Replay:ConnectTimeoutMs, 5 s by default) instead of being refused, and then nothing would be retried.
    /// </summary>
    public const int MinStartupConnectAttempts = 3;

    private static readonly TimeSpan StartupConnectRetryInterval = TimeSpan.FromMilliseconds(250);

    private static async Task<ShardedReplay> ConnectOnceAsync(ReplayOptions options, ILogger? logger, ShardReaderThreads readers, CancellationToken ct)
    {

        var tasks = new Task<ReplayShard>[options.Shards.Length];
        for (int i = 0; i < tasks.Length; i++)
            tasks[i] = ReplayShard.ConnectAsync(i, options.Shards[i], options, readers, ct);
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch
        {
            foreach (var t in tasks)
            {
                if (t.IsCompletedSuccessfully)
                    await t.Result.DisposeAsync().ConfigureAwait(false);
            }
            // Task.WhenAll rethrows only the first; prefer the one that names an endpoint.
            foreach (var t in tasks)
            {
                if (t.IsFaulted && t.Exception!.InnerException is ReplayUnavailableException unavailable)
                    throw unavailable;
            }
            throw;
        }
        var shards = new ReplayShard[tasks.Length];
        for (int i = 0; i < shards.Length; i++)
            shards[i] = tasks[i].Result;
        var log = logger ?? NullLogger.Instance;
        log.LogInformation("replay connected: run {RunId}, {Shards} shard(s) [{Endpoints}], capacity {Capacity} per shard",
            options.RunId, shards.Length, string.Join(", ", options.Shards), options.CapacityPerShard);
        return new ShardedReplay(options, shards, log, readers);
    }

    /// <summary>
    /// Creates the run (SET NX of the metadata on every shard) or joins it when the stored metadata is identical but for
    /// the rate-limit contract, which the caller (the learner, its owner) then rewrites; loads the insert script on every
    /// shard. A shard that is down is skipped (and gets the metadata once it is back, see <see cref="ShardsNeedingRunStateAsync"/>);
    /// none answering is <see cref="ReplayUnavailableException"/>. Differing fixed fields raise
    /// <see cref="ReplaySchemaMismatchException"/> naming them.
    /// </summary>
    public async Task InitializeRunAsync(ReplayMetadata metadata, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        MetadataCodec.Validate(metadata, Options, ShardCount);
        if (metadata.CapacityPerShard != Options.CapacityPerShard)
            throw new ArgumentException($"metadata CapacityPerShard {metadata.CapacityPerShard} differs from the configured {Options.CapacityPerShard}.");

        string json = MetadataCodec.Serialize(metadata);
        var answers = await AskEveryShardAsync(shard => InitializeShardAsync(shard, metadata, json, ct)).ConfigureAwait(false);
        bool created = true;
        RateLimitContract? replaced = null;
        bool rateLimitChanged = false;
        for (int i = 0; i < answers.Length; i++)
        {
            if (!answers[i].Answered)
            {
                if (Interlocked.Exchange(ref _runStateMissed[i], 1) == 0)
                    _logger.LogWarning("replay shard {Shard} at {Endpoint} is unreachable while the run is initialized ({Reason}); it gets the metadata once it is back",
                        i, _shards[i].Endpoint, answers[i].Down!.Message);
                continue;
            }
            var stored = answers[i].Value;
            if (stored is null) continue;
            created = false;
            if (stored.RateLimit != metadata.RateLimit)
            {
                rateLimitChanged = true;
                replaced = stored.RateLimit;
            }
        }
        // The learner owns the contract: its new settings replaced the stored ones, and gateways read them on their next
        // progress reading (the learner's progress message after this wakes them).
        if (rateLimitChanged)
            _logger.LogInformation("replay run {RunId}: rate limit changed from ({Old}) to ({New})",
                Options.RunId, replaced?.ToString() ?? "none", metadata.RateLimit?.ToString() ?? "none");
        Volatile.Write(ref _metadata, metadata);
        _logger.LogInformation("replay run {RunId} {Action}: {Env}, {RecordBytes}-byte records",
            Options.RunId, created ? "created" : "joined", metadata.EnvId, metadata.RecordBytes);
    }

    /// <summary>One shard's part of <see cref="InitializeRunAsync"/>: the metadata stored there before (null if it was created now).</summary>
    private async Task<ReplayMetadata?> InitializeShardAsync(ReplayShard shard, ReplayMetadata metadata, string json, CancellationToken ct)
    {
        ReplayMetadata? stored = null;
        bool created = await shard.Guard(shard.Database.StringSetAsync(_metaKey, json, when: When.NotExists), ct).ConfigureAwait(false);
        if (!created)
        {
            var text = await shard.Guard(shard.Database.StringGetAsync(_metaKey), ct).ConfigureAwait(false);
            if (text.IsNull) throw new InvalidOperationException($"run '{Options.RunId}' metadata vanished from shard {shard.Index} while initializing.");
            stored = MetadataCodec.Deserialize(Options.RunId, text!);
            var diff = MetadataCodec.Differences(stored, metadata);
            if (diff is not null)
                throw new ReplaySchemaMismatchException($"run '{Options.RunId}' already exists with different metadata (shard {shard.Index}): {diff}.");
            if (stored.RateLimit != metadata.RateLimit)
                await shard.Guard(shard.Database.StringSetAsync(_metaKey, json), ct).ConfigureAwait(false);
        }
        await shard.LoadScriptAsync(ct).ConfigureAwait(false);
        return stored;
    }

    /// <summary>
    /// The run's metadata from the lowest shard that answers and holds it (every shard keeps a copy): null when every shard
    /// that answered has none (the run was never initialized, or every copy was lost); throws
    /// <see cref="ReplayUnavailableException"/> when no shard answers. Caches it.
    /// </summary>
    public async Task<ReplayMetadata?> ReadMetadataAsync(CancellationToken ct)
    {
        var json = await AskFirstShardAsync(s => s.Guard(s.Database.StringGetAsync(_metaKey), ct), static v => !v.IsNull).ConfigureAwait(false);
        if (json.IsNull) return null;
        var metadata = MetadataCodec.Deserialize(Options.RunId, json!);
        MetadataCodec.Validate(metadata, Options, ShardCount);
        Volatile.Write(ref _metadata, metadata);
        return metadata;
    }

    /// <summary>
    /// The run's rate-limit contract as stored now (one GET of the metadata on the lowest shard that holds it; parsed again
    /// only when the stored text changed): <see cref="RateLimitContract.Off"/> for a run created without one, null when no
    /// shard that answers has the metadata or it is unreadable (callers keep the contract they knew). Gateways read it
    /// with every progress reading.
    /// </summary>
    public async Task<RateLimitContract?> ReadRateLimitAsync(CancellationToken ct)
    {
        var json = await AskFirstShardAsync(s => s.Guard(s.Database.StringGetAsync(_metaKey), ct), static v => !v.IsNull).ConfigureAwait(false);
        if (json.IsNull) return null;
        var text = (string)json!;
        var last = Volatile.Read(ref _lastRateLimit);
        if (last is not null && string.Equals(last.Json, text, StringComparison.Ordinal)) return last.Contract;
        RateLimitContract? contract;
        try
        {
            var metadata = MetadataCodec.Deserialize(Options.RunId, text);
            contract = metadata.RateLimit?.Problem() is null ? metadata.RateLimit ?? RateLimitContract.Off : null;
        }
        catch (ReplaySchemaMismatchException)
        {
            contract = null;
        }
        Volatile.Write(ref _lastRateLimit, new StoredRateLimit(text, contract));
        return contract;
    }

    private sealed record StoredRateLimit(string Json, RateLimitContract? Contract);

    /// <summary>The cached metadata, read once from Redis if needed; throws when the run does not exist yet.</summary>
    public async ValueTask<ReplayMetadata> RequireMetadataAsync(CancellationToken ct)
    {
        var cached = Volatile.Read(ref _metadata);
        if (cached is not null) return cached;
        return await ReadMetadataAsync(ct).ConfigureAwait(false)
               ?? throw new InvalidOperationException(
                   $"run '{Options.RunId}' has no metadata on any shard that answers ({string.Join(", ", Options.Shards)}); the learner must initialize the run first.");
    }

    /// <summary>
    /// Stores a chunk for a writer that never restarts under the same id (benchmarks, tests): incarnation 0.
    /// Workers go through the gateway, which passes the incarnation of each worker start.
    /// </summary>
    public Task<InsertResult> InsertAsync(string workerId, long sequence, ReadOnlyMemory<byte> records, int count, CancellationToken ct) =>
        InsertAsync(workerId, 0, sequence, records, count, ct);

    /// <summary>
    /// Stores a chunk of <paramref name="count"/> packed records atomically on shard <c>sequence % ShardCount</c>,
    /// exactly once per (worker, incarnation, sequence): a sequence this lane stored before is a duplicate (nothing
    /// stored, <see cref="InsertResult.Duplicate"/> set); a sequence that skips one its lane never stored, or is older
    /// than the lane's first, raises <see cref="ReplaySequenceException"/> (nothing stored). See <see cref="InsertScript"/>
    /// for the lanes and for chunks larger than the ring.
    /// </summary>
    public Task<InsertResult> InsertAsync(string workerId, long incarnation, long sequence, ReadOnlyMemory<byte> records, int count, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        int shards = ShardCount;
        string previous = sequence >= shards ? (sequence - shards).ToString(CultureInfo.InvariantCulture) : "";
        // Worker ids never contain a space (the gateway allows letters, digits and -_./:), so the lane name is unambiguous.
        return InsertCoreAsync(workerId, incarnation, (int)(sequence % shards), RunKeys.ModuloLane(workerId, incarnation), sequence, previous, shards,
            records, count, ct);
    }

    /// <summary>
    /// Stores a chunk in the explicit lane (worker, incarnation, <paramref name="shard"/>), whose sequences are
    /// 0, 1, 2, ... of its own: stored when the lane's last is <c>sequence - 1</c> (or the lane has no record yet),
    /// duplicate when the lane holds it, <see cref="ReplaySequenceException"/> for a gap or a sequence older than the
    /// lane. Lets a writer send any batch to any shard that is up. A shard that is known to be disconnected is not sent
    /// anything: <see cref="ReplayUnavailableException.NotSent"/> says so.
    /// </summary>
    public Task<InsertResult> InsertIntoShardAsync(string workerId, long incarnation, int shard, long sequence, ReadOnlyMemory<byte> records, int count,
        CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        if ((uint)shard >= (uint)ShardCount)
            throw new ArgumentOutOfRangeException(nameof(shard), shard, $"the run has {ShardCount} shard(s): 0 .. {ShardCount - 1}.");
        string previous = sequence >= 1 ? (sequence - 1).ToString(CultureInfo.InvariantCulture) : "";
        return InsertCoreAsync(workerId, incarnation, shard, RunKeys.ShardLane(workerId, incarnation), sequence, previous, 1, records, count, ct);
    }

    /// <param name="step">How far apart a lane's sequences are: the shard count for modulo lanes, 1 for explicit ones.</param>
    private async Task<InsertResult> InsertCoreAsync(string workerId, long incarnation, int shardIndex, string lane, long sequence, string previous, int step,
        ReadOnlyMemory<byte> records, int count, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        ArgumentOutOfRangeException.ThrowIfNegative(incarnation);
        if (count < 1 || count > ProtocolLimits.MaxBatchTransitions)
            throw new ArgumentException($"count must be in [1, {ProtocolLimits.MaxBatchTransitions}] (got {count}).", nameof(count));
        var metadata = await RequireMetadataAsync(ct).ConfigureAwait(false);
        int recordBytes = metadata.RecordBytes;
        if (records.Length != (long)count * recordBytes)
            throw new ArgumentException(
                $"records has {records.Length} bytes; {count} records of {recordBytes} bytes need {(long)count * recordBytes}.", nameof(records));

        var shard = _shards[shardIndex];
        const int header = InsertScript.HeaderArguments;
        var args = new RedisValue[count + header];
        args[0] = workerId;
        args[1] = lane;
        args[2] = sequence.ToString(CultureInfo.InvariantCulture);
        args[3] = previous;
        args[4] = metadata.CapacityPerShard;
        args[5] = shard.InsertedChannel;
        for (int i = 0; i < count; i++)
            args[header + i] = records.Slice(i * recordBytes, recordBytes); // no copy: RedisValue wraps the slice
        var result = (RedisResult[])(await shard.EvalInsertAsync(args, ct).ConfigureAwait(false))!;
        int status = (int)result[1];
        if (status == InsertScript.Gap || status == InsertScript.OlderThanLane)
            throw SequenceRefused(workerId, incarnation, sequence, status, long.Parse((string)result[3]!, CultureInfo.InvariantCulture), step, shardIndex);
        return new InsertResult((int)result[0], status == InsertScript.Duplicate, shard.Index, (long)result[2]);
    }

    private static ReplaySequenceException SequenceRefused(string workerId, long incarnation, long sequence, int status, long laneSequence, int step, int shard)
    {
        string who = $"worker '{workerId}' incarnation {incarnation}";
        if (status == InsertScript.OlderThanLane)
            return new ReplaySequenceException(
                $"sequence {sequence} of {who} is older than {laneSequence}, the first its shard {shard} lane holds for it, and was never stored there; " +
                "a push is only retried with its own sequence, and sequences only grow (start a new incarnation with GetRunInfo).", null);
        long? expected = laneSequence <= long.MaxValue - step ? laneSequence + step : null;
        return new ReplaySequenceException(
            $"sequence {sequence} of {who} skips sequence {(expected?.ToString(CultureInfo.InvariantCulture) ?? "beyond 2^63 - 1")}, which was never stored " +
            $"(the latest stored of its lane on shard {shard} is {laneSequence}); push sequences 0, 1, 2, ... without gaps, each retried until acknowledged.", expected);
    }

    /// <summary>Cursor, fill and total of every shard (one HMGET per shard, in parallel).</summary>
    public async Task<ReplayStats> ReadStatsAsync(CancellationToken ct)
    {
        var tasks = new Task<ShardStats>[ShardCount];
        for (int i = 0; i < tasks.Length; i++)
            tasks[i] = ReadShardStatsAsync(_shards[i], ct);
        var stats = await Task.WhenAll(tasks).ConfigureAwait(false);
        return new ReplayStats(stats);
    }

    /// <summary>
    /// Worker id -> transitions it inserted, summed over shards (one HGETALL per shard, in parallel). Counts only grow:
    /// ring eviction does not lower them, duplicates never raise them.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, long>> ReadWorkerTransitionsAsync(CancellationToken ct)
    {
        var tasks = new Task<HashEntry[]>[ShardCount];
        for (int i = 0; i < tasks.Length; i++)
            tasks[i] = _shards[i].Guard(_shards[i].Database.HashGetAllAsync(_shards[i].WorkerCounts), ct);
        var perShard = await Task.WhenAll(tasks).ConfigureAwait(false);
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int s = 0; s < perShard.Length; s++)
        {
            foreach (var e in perShard[s])
                result[e.Name!] = result.GetValueOrDefault(e.Name!) + ParseCounter(e.Value, s, _shards[s].WorkerCounts.ToString()!, e.Name!);
        }
        return result;
    }

    /// <summary>Cursor, fill and total of one shard (one HMGET).</summary>
    public Task<ShardStats> ReadShardStatsAsync(int shard, CancellationToken ct) => ReadShardStatsAsync(_shards[shard], ct);

    /// <summary>Transitions one worker inserted into one shard, ever (one HGET; 0 when none).</summary>
    public async Task<long> ReadShardWorkerTransitionsAsync(int shard, string workerId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        var s = _shards[shard];
        var value = await s.Guard(s.Database.HashGetAsync(s.WorkerCounts, workerId), ct).ConfigureAwait(false);
        return ParseCounter(value, shard, s.WorkerCounts.ToString()!, workerId);
    }

    private static readonly RedisValue[] StateFields = ["fill", "cursor", "total"];

    internal static async Task<ShardStats> ReadShardStatsAsync(ReplayShard shard, CancellationToken ct)
    {
        var v = await shard.Guard(shard.Database.HashGetAsync(shard.State, StateFields), ct).ConfigureAwait(false);
        string key = shard.State.ToString()!;
        return new ShardStats(shard.Index, ParseCounter(v[0], shard.Index, key, "fill"), ParseCounter(v[1], shard.Index, key, "cursor"), ParseCounter(v[2], shard.Index, key, "total"));
    }

    /// <summary>An integer counter of a shard's state (absent = 0); anything else is <see cref="ReplayCorruptException"/>, never a crash.</summary>
    internal static long ParseCounter(RedisValue value, int shard, string key, string field)
    {
        if (value.IsNull) return 0;
        if (value.TryParse(out long parsed)) return parsed;
        var shown = value.ToString();
        if (shown.Length > 64) shown = shown[..64] + "...";
        throw new ReplayCorruptException(
            $"replay shard {shard}: field '{field}' of {key} holds '{shown}', not an integer; DistSac never writes that, so the " +
            "key was edited or corrupted outside DistSac. Restore it from the shard's append-only file or delete the run's keys.");
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        foreach (var shard in _shards)
            await shard.DisposeAsync().ConfigureAwait(false);
    }
}
