using StackExchange.Redis;

namespace DistSac.Replay;

/// <summary>Run-level state on shard 0: workers, actor weights (+ pub/sub), learner progress.</summary>
public sealed partial class ShardedReplay
{
    private static readonly RedisValue VersionField = "version";
    private static readonly RedisValue ActorField = "actor";
    private static readonly RedisValue UpdatesField = "updates";
    private static readonly RedisValue UpdatedAtField = "updated_at";
    private static readonly RedisValue FinishedField = "finished";
    private static readonly RedisValue[] WeightsFields = [VersionField, ActorField];
    private static readonly RedisValue[] LearnerFields = [UpdatesField, VersionField, FinishedField];

    // Atomic: the next incarnation is above the last one issued and at least the caller's clock (unix ms), so a worker
    // id's incarnations keep growing even after shard 0 restarted empty and forgot them (as long as clocks move forward).
    private const string NextIncarnationScript = """
        local last = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
        local nextIncarnation = math.max(last + 1, tonumber(ARGV[2]))
        redis.call('HSET', KEYS[1], ARGV[1], string.format('%d', nextIncarnation))
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
        return nextIncarnation
        """;

    /// <summary>
    /// Records the worker with its last-seen time (unix ms) and issues its next incarnation: larger than every one
    /// issued to this id before. Each start of a worker pushes under its own incarnation, so sequence numbers that start
    /// at 0 again never collide with what an earlier start stored.
    /// </summary>
    public async Task<long> RegisterWorkerAsync(string workerId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        RedisKey[] keys = [RunKeys.Incarnations(Options.RunId), RunKeys.Workers(Options.RunId)];
        RedisValue[] args = [workerId, NowMs()];
        var issued = await Shard0.Guard(Shard0.Database.ScriptEvaluateAsync(NextIncarnationScript, keys, args), ct).ConfigureAwait(false);
        return (long)issued;
    }

    /// <summary>The latest incarnation issued to the worker; 0 when it never registered.</summary>
    public async Task<long> ReadIncarnationAsync(string workerId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        var value = await Shard0.Guard(Shard0.Database.HashGetAsync(RunKeys.Incarnations(Options.RunId), workerId), ct).ConfigureAwait(false);
        return value.IsNull ? 0 : (long)value;
    }

    public async Task<bool> IsWorkerKnownAsync(string workerId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        return await Shard0.Guard(Shard0.Database.HashExistsAsync(RunKeys.Workers(Options.RunId), workerId), ct).ConfigureAwait(false);
    }

    /// <summary>Worker id -> last seen (unix ms).</summary>
    public async Task<IReadOnlyDictionary<string, long>> ReadWorkersAsync(CancellationToken ct)
    {
        var entries = await Shard0.Guard(Shard0.Database.HashGetAllAsync(RunKeys.Workers(Options.RunId)), ct).ConfigureAwait(false);
        var result = new Dictionary<string, long>(entries.Length, StringComparer.Ordinal);
        foreach (var e in entries) result[e.Name!] = ParseCounter(e.Value, 0, RunKeys.Workers(Options.RunId), e.Name!);
        return result;
    }

    /// <summary>
    /// Stores version and actor bytes with one HSET (readers never see a version with another version's bytes), then
    /// PUBLISHes the version. The last publish wins; versions are not required to increase (a restarted learner may
    /// start over).
    /// </summary>
    public async Task PublishWeightsAsync(long version, byte[] actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        var entries = new HashEntry[] { new(VersionField, version), new(ActorField, actor) };
        await Shard0.Guard(Shard0.Database.HashSetAsync(RunKeys.Weights(Options.RunId), entries), ct).ConfigureAwait(false);
        await Shard0.Guard(Shard0.Database.PublishAsync(WeightsChannel, version), ct).ConfigureAwait(false);
    }

    /// <summary>The latest stored weights, or null when none were published for this run.</summary>
    public async Task<(long Version, byte[] Actor)?> ReadLatestWeightsAsync(CancellationToken ct)
    {
        var v = await Shard0.Guard(Shard0.Database.HashGetAsync(RunKeys.Weights(Options.RunId), WeightsFields), ct).ConfigureAwait(false);
        if (v[0].IsNull || v[1].IsNull) return null;
        return (ParseCounter(v[0], 0, RunKeys.Weights(Options.RunId), "version"), (byte[])v[1]!);
    }

    /// <summary>
    /// Calls <paramref name="onVersion"/> (on a Redis callback thread) for each published version until disposed.
    /// Pub/sub drops messages while disconnected: callers that must not miss a version also poll
    /// <see cref="ReadLatestWeightsAsync"/> (e.g. after subscribing and on a timer).
    /// </summary>
    public async Task<IAsyncDisposable> SubscribeWeightsAsync(Action<long> onVersion, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(onVersion);
        var subscriber = Shard0.Connection.GetSubscriber();
        // A message queue delivers in publish order, one at a time; a plain handler may run concurrently and reorder.
        var queue = await Shard0.Guard(subscriber.SubscribeAsync(WeightsChannel), ct).ConfigureAwait(false);
        queue.OnMessage(message =>
        {
            if (message.Message.TryParse(out long version)) onVersion(version);
        });
        return new Subscription(queue);
    }

    /// <summary>Stores the learner's update count and last published weights version, with the time (unix ms).</summary>
    public Task PublishLearnerProgressAsync(long updates, long weightsVersion, CancellationToken ct) =>
        PublishLearnerProgressAsync(new LearnerProgress(updates, weightsVersion, Finished: false), ct);

    /// <summary>
    /// Stores the learner's progress (HSET, the durable copy readers reconcile from), then PUBLISHes it on the run's
    /// learner channel, so gateways holding pushes wake at once instead of polling (<see cref="SubscribeLearnerProgressAsync"/>).
    /// </summary>
    public async Task PublishLearnerProgressAsync(LearnerProgress progress, CancellationToken ct)
    {
        var entries = new HashEntry[]
        {
            new(UpdatesField, progress.Updates), new(VersionField, progress.WeightsVersion),
            new(FinishedField, progress.Finished ? 1 : 0), new(UpdatedAtField, NowMs()),
        };
        await Shard0.Guard(Shard0.Database.HashSetAsync(RunKeys.Learner(Options.RunId), entries), ct).ConfigureAwait(false);
        await Shard0.Guard(Shard0.Database.PublishAsync(LearnerChannel, progress.Format()), ct).ConfigureAwait(false);
    }

    /// <summary>(0, 0) until the learner has published progress.</summary>
    public async Task<(long Updates, long WeightsVersion)> ReadLearnerProgressAsync(CancellationToken ct)
    {
        var progress = await ReadLearnerStateAsync(ct).ConfigureAwait(false);
        return (progress.Updates, progress.WeightsVersion);
    }

    /// <summary>Updates, weights version and whether training finished; (0, 0, false) until the learner has published progress.</summary>
    public async Task<LearnerProgress> ReadLearnerStateAsync(CancellationToken ct)
    {
        var v = await Shard0.Guard(Shard0.Database.HashGetAsync(RunKeys.Learner(Options.RunId), LearnerFields), ct).ConfigureAwait(false);
        var key = RunKeys.Learner(Options.RunId);
        return new LearnerProgress(ParseCounter(v[0], 0, key, "updates"), ParseCounter(v[1], 0, key, "version"), ParseCounter(v[2], 0, key, "finished") != 0);
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
}
