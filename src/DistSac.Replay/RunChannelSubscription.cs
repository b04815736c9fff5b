using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DistSac.Replay;

/// <summary>
/// A subscription to one of the run's channels (weights, learner progress) on every shard: the learner publishes each
/// message on every shard, so the copies are the same, and only the lowest shard that is up and subscribed is passed
/// on (one ordered stream at a time, switching when that shard goes down or comes back). A shard that is down when
/// this starts is subscribed once it is back; StackExchange.Redis re-subscribes by itself after a reconnect.
/// </summary>
internal sealed class RunChannelSubscription : IAsyncDisposable
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    private readonly ReplayShard[] _shards;
    private readonly RedisChannel _channel;
    private readonly Action<RedisValue> _deliver;
    private readonly ILogger _logger;
    private readonly ChannelMessageQueue?[] _queues;
    private readonly CancellationTokenSource _stop = new();
    private Task _retry = Task.CompletedTask;
    private int _disposed;

    private RunChannelSubscription(ReplayShard[] shards, RedisChannel channel, Action<RedisValue> deliver, ILogger logger)
    {
        _shards = shards;
        _channel = channel;
        _deliver = deliver;
        _logger = logger;
        _queues = new ChannelMessageQueue?[shards.Length];
    }

    /// <summary>Subscribes on every shard that is up; throws the lowest shard's <see cref="ReplayUnavailableException"/> when none is.</summary>
    public static async Task<IAsyncDisposable> StartAsync(ReplayShard[] shards, RedisChannel channel, Action<RedisValue> deliver, ILogger logger, CancellationToken ct)
    {
        var subscription = new RunChannelSubscription(shards, channel, deliver, logger);
        ReplayUnavailableException? firstDown = null;
        bool anySubscribed = false;
        try
        {
            for (int i = 0; i < shards.Length; i++)
            {
                var down = await subscription.TrySubscribeAsync(i, ct).ConfigureAwait(false);
                if (down is null) anySubscribed = true;
                else firstDown ??= down;
            }
        }
        catch
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        if (!anySubscribed)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
            throw firstDown!;
        }
        if (firstDown is not null) subscription._retry = subscription.SubscribeLateShardsAsync();
        return subscription;
    }

    /// <summary>Null when subscribed; else why not.</summary>
    private async Task<ReplayUnavailableException?> TrySubscribeAsync(int index, CancellationToken ct)
    {
        var shard = _shards[index];
        // Nothing is sent to a shard known to be down: the multiplexer would keep a failed subscription's queue
        // registered and fill it after the reconnect, without ever handing it to us.
        if (!shard.Connection.IsConnected)
            return shard.Unavailable(new RedisConnectionException(ConnectionFailureType.UnableToConnect, "not connected; not subscribed yet"));
        try
        {
            var queue = await shard.Guard(shard.Connection.GetSubscriber().SubscribeAsync(_channel), ct).ConfigureAwait(false);
            // A message queue delivers in publish order, one at a time; a plain handler may run concurrently and reorder.
            queue.OnMessage(message =>
            {
                if (IsLowestUp(index)) _deliver(message.Message);
            });
            Volatile.Write(ref _queues[index], queue);
            return null;
        }
        catch (ReplayUnavailableException e)
        {
            return e;
        }
    }

    /// <summary>True when no lower shard is up and subscribed: that shard's copy of the message is the one passed on.</summary>
    private bool IsLowestUp(int index)
    {
        for (int j = 0; j < index; j++)
        {
            if (Volatile.Read(ref _queues[j]) is not null && _shards[j].Connection.IsConnected) return false;
        }
        return true;
    }

    private async Task SubscribeLateShardsAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(RetryInterval, _stop.Token).ConfigureAwait(false);
                bool pending = false;
                for (int i = 0; i < _queues.Length; i++)
                {
                    if (Volatile.Read(ref _queues[i]) is not null) continue;
                    if (await TrySubscribeAsync(i, _stop.Token).ConfigureAwait(false) is null)
                        _logger.LogInformation("subscribed to {Channel} on replay shard {Shard} ({Endpoint})", _channel.ToString(), i, _shards[i].Endpoint);
                    else pending = true;
                }
                if (!pending) return;
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _retry.ConfigureAwait(false);
        foreach (var queue in _queues)
        {
            if (queue is not null) await ShardedReplay.UnsubscribeQuietlyAsync(queue).ConfigureAwait(false);
        }
        _stop.Dispose();
    }
}
