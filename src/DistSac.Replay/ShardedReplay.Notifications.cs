using StackExchange.Redis;

namespace DistSac.Replay;

/// <summary>
/// Pub/sub that replaces polling: learner progress (every shard) for gateways holding pushes, and each shard's insert
/// count for a learner waiting for transitions. Pub/sub drops messages while a connection is down, so every subscriber
/// keeps a slow reconcile read as the safety net.
/// </summary>
public sealed partial class ShardedReplay
{
    /// <summary>
    /// Calls <paramref name="onProgress"/> (on a Redis callback thread, in publish order) for each progress message
    /// until disposed. Messages that do not parse are ignored. Listens on every shard and passes on what the lowest shard
    /// that is up publishes (the learner publishes on every shard), so it carries on while any one shard is up.
    /// </summary>
    public Task<IAsyncDisposable> SubscribeLearnerProgressAsync(Action<LearnerProgress> onProgress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(onProgress);
        return RunChannelSubscription.StartAsync(_shards, LearnerChannel, message =>
        {
            if (LearnerProgress.TryParse(((string?)message).AsSpan(), out var progress)) onProgress(progress);
        }, _logger, ct);
    }

    /// <summary>
    /// Calls <paramref name="onInserted"/> (on a Redis callback thread) with the shard index each time a shard stores
    /// transitions (the insert script publishes). All shards are subscribed; disposing unsubscribes them all.
    /// </summary>
    public async Task<IAsyncDisposable> SubscribeInsertsAsync(Action<int> onInserted, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(onInserted);
        var subscriptions = new List<IAsyncDisposable>(ShardCount);
        try
        {
            foreach (var shard in _shards)
            {
                int index = shard.Index;
                var channel = RedisChannel.Literal((string)shard.InsertedChannel!);
                var queue = await shard.Guard(shard.Connection.GetSubscriber().SubscribeAsync(channel), ct).ConfigureAwait(false);
                queue.OnMessage(_ => onInserted(index));
                subscriptions.Add(new Subscription(queue));
            }
        }
        catch
        {
            foreach (var s in subscriptions) await s.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new Subscriptions(subscriptions);
    }

    private sealed class Subscriptions(List<IAsyncDisposable> all) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var s in all) await s.DisposeAsync().ConfigureAwait(false);
        }
    }
}
