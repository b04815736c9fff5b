using StackExchange.Redis;

namespace DistSac.Replay;

/// <summary>
/// Run-level state, a copy on every shard (see ShardedReplay.Replicas.cs): workers and their incarnations, actor weights
/// (+ pub/sub), learner progress. The learner writes the weights and progress to every shard that answers; gateways
/// register workers on every shard that answers; readers take the newest copy among the shards that answer.
/// </summary>
public sealed partial class ShardedReplay
{
    private static readonly RedisValue VersionField = "version";
    private static readonly RedisValue ActorField = "actor";
    private static readonly RedisValue UpdatesField = "updates";
    private static readonly RedisValue UpdatedAtField = "updated_at";
    private static readonly RedisValue FinishedField = "finished";
    private static readonly RedisValue[] WeightsFields = [VersionField, ActorField];
    private static readonly RedisValue[] LearnerFields = [UpdatesField, VersionField, FinishedField, UpdatedAtField];

    // Atomic on the issuing shard i of S: the next incarnation is above the last one this shard knows (its own and those
    // copied from other shards), at least ARGV[3] (the caller's clock in unix ms, or above what the other shards know),
    // and equal to i modulo S. Shards issue from disjoint residue classes, so two registrations never get the same value
    // even when they went to different shards (one of them down for the other caller); with one shard this is
    // max(last + 1, clock), as before.
    private const string NextIncarnationScript = """
        local last = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
        local low = math.max(last + 1, tonumber(ARGV[3]))
        local shards, residue = tonumber(ARGV[4]), tonumber(ARGV[5])
        local nextIncarnation = low + ((residue - low) % shards)
        redis.call('HSET', KEYS[1], ARGV[1], string.format('%d', nextIncarnation))
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
        return nextIncarnation
        """;

    // The copy of an incarnation issued by another shard: raises this shard's latest to it (never lowers it) and records
    // the worker as seen.
    private const string CopyIncarnationScript = """
        local last = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
        if last < tonumber(ARGV[3]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
        return 1
        """;

    /// <summary>
    /// Records the worker with its last-seen time (unix ms) and issues its next incarnation: larger than every one issued
    /// to this id before that a shard which answers knows of. Each start of a worker pushes under its own incarnation, so
    /// sequence numbers that start at 0 again never collide with what an earlier start stored. The lowest shard that
    /// answers issues it (atomically, from its own residue class modulo the shard count, so it is unique even while
    /// callers disagree on which shards are up); the other shards that answer get a copy. Any one shard up is enough.
    /// </summary>
    public async Task<long> RegisterWorkerAsync(string workerId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        RedisKey[] keys = [RunKeys.Incarnations(Options.RunId), RunKeys.Workers(Options.RunId)];
        long now = NowMs();
        var known = await AskEveryShardAsync(s => s.Guard(s.Database.HashGetAsync(keys[0], workerId), ct)).ConfigureAwait(false);
        long floor = Math.Max(now, LatestIncarnation(known, keys[0].ToString()!, workerId) + 1);
        ReplayUnavailableException? down = null;
        for (int i = 0; i < known.Length; i++)
        {
            if (!known[i].Answered) continue;
            var shard = _shards[i];
            RedisValue[] args = [workerId, now, floor, ShardCount, i];
            long issued;
            try
            {
                issued = (long)await shard.Guard(shard.Database.ScriptEvaluateAsync(NextIncarnationScript, keys, args), ct).ConfigureAwait(false);
            }
            catch (ReplayUnavailableException e)
            {
                down ??= e; // went down since it answered: the next shard issues
                continue;
            }
            await CopyIncarnationAsync(keys, workerId, now, issued, i, known, ct).ConfigureAwait(false);
            return issued;
        }
        throw down ?? known[0].Down!;
    }

    /// <summary>Copies an issued incarnation to the shards that answered besides the issuer; one that fails is skipped.</summary>
    private async Task CopyIncarnationAsync(RedisKey[] keys, string workerId, long now, long issued, int issuer, ShardAnswer<RedisValue>[] known, CancellationToken ct)
    {
        if (ShardCount == 1) return;
        var copies = new List<Task>(ShardCount - 1);
        for (int i = 0; i < known.Length; i++)
        {
            if (i == issuer || !known[i].Answered) continue;
            var shard = _shards[i];
            copies.Add(AskAsync(shard, s => s.Guard(s.Database.ScriptEvaluateAsync(CopyIncarnationScript, keys, [workerId, now, issued]), ct)));
        }
        await Task.WhenAll(copies).ConfigureAwait(false);
    }

    /// <summary>The latest incarnation issued to the worker that any shard which answers knows of; 0 when none does.</summary>
    public async Task<long> ReadIncarnationAsync(string workerId, CancellationToken ct) =>
        (await ReadIssuedIncarnationAsync(workerId, ct).ConfigureAwait(false)).Latest;

    /// <summary>
    /// The latest incarnation issued to the worker that the shards which answer know of (0 when none does), and whether
    /// every shard answered: while one does not, it may know a later one (issued while the others were unreachable).
    /// </summary>
    public async Task<IssuedIncarnation> ReadIssuedIncarnationAsync(string workerId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        var key = RunKeys.Incarnations(Options.RunId);
        var answers = await AskEveryShardAsync(s => s.Guard(s.Database.HashGetAsync(key, workerId), ct)).ConfigureAwait(false);
        bool complete = true;
        foreach (var a in answers) complete &= a.Answered;
        return new IssuedIncarnation(LatestIncarnation(answers, key, workerId), complete);
    }

    /// <summary>The largest incarnation of the worker among the shards that answered (HGET of the incarnations hash); 0 when none knows one.</summary>
    private static long LatestIncarnation(ShardAnswer<RedisValue>[] answers, string key, string workerId)
    {
        long latest = 0;
        for (int i = 0; i < answers.Length; i++)
        {
            if (answers[i].Answered && !answers[i].Value.IsNull) latest = Math.Max(latest, ParseCounter(answers[i].Value, i, key, workerId));
        }
        return latest;
    }

    /// <summary>True when a shard that answers has the worker registered.</summary>
    public async Task<bool> IsWorkerKnownAsync(string workerId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        var key = RunKeys.Workers(Options.RunId);
        var answers = await AskEveryShardAsync(s => s.Guard(s.Database.HashExistsAsync(key, workerId), ct)).ConfigureAwait(false);
        foreach (var a in answers)
        {
            if (a.Answered && a.Value) return true;
        }
        return false;
    }

    /// <summary>Worker id -> last seen (unix ms), the latest over the shards that answer.</summary>
    public async Task<IReadOnlyDictionary<string, long>> ReadWorkersAsync(CancellationToken ct)
    {
        var key = RunKeys.Workers(Options.RunId);
        var answers = await AskEveryShardAsync(s => s.Guard(s.Database.HashGetAllAsync(key), ct)).ConfigureAwait(false);
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int i = 0; i < answers.Length; i++)
        {
            if (!answers[i].Answered) continue;
            foreach (var e in answers[i].Value)
                result[e.Name!] = Math.Max(result.GetValueOrDefault(e.Name!), ParseCounter(e.Value, i, key, e.Name!));
        }
        return result;
    }

    /// <summary>
    /// Stores version and actor bytes with one HSET on every shard that answers (readers never see a version with another
    /// version's bytes), then PUBLISHes the version there. Throws only when no shard took it. The learner's versions only
    /// grow (WeightsVersionOffset), and readers take the largest version among the shards that answer.
    /// </summary>
    public Task PublishWeightsAsync(long version, byte[] actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(actor);
        return PublishWeightsAsync(version, actor.AsMemory(), ct);
    }

    /// <summary>As the byte[] overload, from a buffer the caller reuses once the returned task has completed successfully.</summary>
    public async Task PublishWeightsAsync(long version, ReadOnlyMemory<byte> actor, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        var entries = new HashEntry[] { new(VersionField, version), new(ActorField, actor) };
        var key = RunKeys.Weights(Options.RunId);
        var channel = WeightsChannel;
        await WriteRunStateAsync(async s =>
        {
            await s.Guard(s.Database.HashSetAsync(key, entries), ct).ConfigureAwait(false);
            return await s.Guard(s.Database.PublishAsync(channel, version), ct).ConfigureAwait(false);
        }, "weights").ConfigureAwait(false);
    }

    /// <summary>
    /// The latest stored weights: the largest version among the shards that answer (one HGET of the version on each, then
    /// the actor bytes from that shard only), or null when none holds weights for this run.
    /// </summary>
    public async Task<(long Version, byte[] Actor)?> ReadLatestWeightsAsync(CancellationToken ct)
    {
        var key = RunKeys.Weights(Options.RunId);
        var versions = await AskEveryShardAsync(s => s.Guard(s.Database.HashGetAsync(key, VersionField), ct)).ConfigureAwait(false);
        var tried = new bool[versions.Length];
        ReplayUnavailableException? down = null;
        while (true)
        {
            int best = -1;
            long bestVersion = -1;
            for (int i = 0; i < versions.Length; i++)
            {
                if (tried[i] || !versions[i].Answered || versions[i].Value.IsNull) continue;
                long v = ParseCounter(versions[i].Value, i, key, "version");
                if (v > bestVersion) (best, bestVersion) = (i, v);
            }
            if (best < 0)
            {
                if (down is not null) throw down;
                return null;
            }
            tried[best] = true;
            var shard = _shards[best];
            var answer = await AskAsync(shard, s => s.Guard(s.Database.HashGetAsync(key, WeightsFields), ct)).ConfigureAwait(false);
            if (!answer.Answered)
            {
                down ??= answer.Down; // gone since it answered: the next newest copy
                continue;
            }
            var v2 = answer.Value;
            if (v2[0].IsNull || v2[1].IsNull) continue;
            return (ParseCounter(v2[0], best, key, "version"), (byte[])v2[1]!);
        }
    }

    /// <summary>
    /// Calls <paramref name="onVersion"/> (on a Redis callback thread, in publish order) for each published version until
    /// disposed. Listens on every shard and passes on what the lowest shard that is up (and subscribed) publishes, so it
    /// carries on while any one shard is up. Pub/sub drops messages while disconnected and around a switch of shards:
    /// callers that must not miss a version also poll <see cref="ReadLatestWeightsAsync"/> (e.g. after subscribing and on a timer).
    /// </summary>
    public Task<IAsyncDisposable> SubscribeWeightsAsync(Action<long> onVersion, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(onVersion);
        return RunChannelSubscription.StartAsync(_shards, WeightsChannel, message =>
        {
            if (message.TryParse(out long version)) onVersion(version);
        }, _logger, ct);
    }

    /// <summary>Stores the learner's update count and last published weights version, with the time (unix ms).</summary>
    public Task PublishLearnerProgressAsync(long updates, long weightsVersion, CancellationToken ct) =>
        PublishLearnerProgressAsync(new LearnerProgress(updates, weightsVersion, Finished: false), ct);

    /// <summary>
    /// Stores the learner's progress on every shard that answers (HSET, the durable copy readers reconcile from), then
    /// PUBLISHes it on the run's learner channel there, so gateways holding pushes wake at once instead of polling
    /// (<see cref="SubscribeLearnerProgressAsync"/>). Throws only when no shard took it.
    /// </summary>
    public async Task PublishLearnerProgressAsync(LearnerProgress progress, CancellationToken ct)
    {
        var entries = new HashEntry[]
        {
            new(UpdatesField, progress.Updates), new(VersionField, progress.WeightsVersion),
            new(FinishedField, progress.Finished ? 1 : 0), new(UpdatedAtField, NowMs()),
        };
        var key = RunKeys.Learner(Options.RunId);
        var channel = LearnerChannel;
        var message = progress.Format();
        await WriteRunStateAsync(async s =>
        {
            await s.Guard(s.Database.HashSetAsync(key, entries), ct).ConfigureAwait(false);
            return await s.Guard(s.Database.PublishAsync(channel, message), ct).ConfigureAwait(false);
        }, "progress").ConfigureAwait(false);
    }

    /// <summary>(0, 0) until the learner has published progress.</summary>
    public async Task<(long Updates, long WeightsVersion)> ReadLearnerProgressAsync(CancellationToken ct)
    {
        var progress = await ReadLearnerStateAsync(ct).ConfigureAwait(false);
        return (progress.Updates, progress.WeightsVersion);
    }

    /// <summary>
    /// Updates, weights version and whether training finished; (0, 0, false) until the learner has published progress.
    /// The newest copy among the shards that answer: the largest weights version (it only grows, across learner restarts
    /// too), then the latest write time; so a reader never goes back because a shard with an older copy came back.
    /// </summary>
    public async Task<LearnerProgress> ReadLearnerStateAsync(CancellationToken ct)
    {
        var key = RunKeys.Learner(Options.RunId);
        var answers = await AskEveryShardAsync(s => s.Guard(s.Database.HashGetAsync(key, LearnerFields), ct)).ConfigureAwait(false);
        LearnerProgress newest = default;
        long newestVersion = -1, newestAt = -1;
        for (int i = 0; i < answers.Length; i++)
        {
            if (!answers[i].Answered) continue;
            var v = answers[i].Value;
            long version = v[1].IsNull ? -1 : ParseCounter(v[1], i, key, "version");
            long at = ParseCounter(v[3], i, key, "updated_at");
            if (version < newestVersion || (version == newestVersion && at <= newestAt)) continue;
            (newestVersion, newestAt) = (version, at);
            newest = new LearnerProgress(ParseCounter(v[0], i, key, "updates"), ParseCounter(v[1], i, key, "version"), ParseCounter(v[2], i, key, "finished") != 0);
        }
        return newest;
    }

    private RedisChannel WeightsChannel => RedisChannel.Literal(RunKeys.WeightsChannel(Options.RunId));

    private RedisChannel LearnerChannel => RedisChannel.Literal(RunKeys.LearnerChannel(Options.RunId));

    private static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private sealed class Subscription(ChannelMessageQueue queue) : IAsyncDisposable
    {
        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            await UnsubscribeQuietlyAsync(queue).ConfigureAwait(false);
        }
    }

    /// <summary>Unsubscribes; a connection that is gone (or disposed) took the subscription with it.</summary>
    internal static async Task UnsubscribeQuietlyAsync(ChannelMessageQueue queue)
    {
        try
        {
            await queue.UnsubscribeAsync().ConfigureAwait(false);
        }
        catch (RedisConnectionException)
        {
            // The connection is gone, and with it the subscription.
        }
        catch (ObjectDisposedException)
        {
        }
    }
}

/// <summary>What the shards that answered know of a worker's incarnations (<see cref="ShardedReplay.ReadIssuedIncarnationAsync"/>).</summary>
/// <param name="Latest">The largest incarnation issued to the worker that an answering shard knows of; 0 when none does.</param>
/// <param name="Complete">True when every shard answered; false when one that did not may know a later incarnation.</param>
public readonly record struct IssuedIncarnation(long Latest, bool Complete);
