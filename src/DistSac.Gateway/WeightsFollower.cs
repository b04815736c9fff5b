using System.Threading.Channels;
using DistSac.Replay;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DistSac.Gateway;

/// <summary>
/// The gateway's one subscription to the run's weights channel: on each announced version it fetches the actor bytes
/// once and hands them to <see cref="WeightsFanOut"/>, so N streams cost one Redis read per version. Pub/sub is
/// fire-and-forget (a message sent while the connection was down is lost), so it also re-checks the published version
/// every <see cref="GatewayOptions.WeightsReconcileMs"/>.
/// </summary>
public sealed class WeightsFollower(ShardedReplay replay, WeightsFanOut fanOut, GatewayOptions options, ILogger<WeightsFollower> logger)
    : BackgroundService
{
    private static readonly BoundedChannelOptions SignalOptions = new(1) { FullMode = BoundedChannelFullMode.DropOldest };
    private readonly Lock _gate = new();
    private readonly Channel<long> _announced = Channel.CreateBounded<long>(SignalOptions);
    private IAsyncDisposable? _subscription;
    private Task? _fetch;

    /// <summary>Subscribes before the gateway takes calls, so a version published just after start is not missed.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            _subscription = await SubscribeAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailure.IsTransient(e))
        {
            logger.LogWarning("Weights follower cannot subscribe yet ({Error}); retrying in the background", e.Message);
        }
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Brings <see cref="WeightsFanOut"/> up to the version stored in Redis now. A new stream calls this before it
    /// subscribes, so "latest first" means the latest in Redis, not the latest this gateway happened to have seen;
    /// concurrent callers share one read.
    /// </summary>
    public Task CatchUpAsync(CancellationToken ct)
    {
        Task fetch;
        lock (_gate)
        {
            if (_fetch is null || _fetch.IsCompleted) _fetch = FetchLatestAsync();
            fetch = _fetch;
        }
        return fetch.WaitAsync(ct);
    }

    private async Task FetchLatestAsync()
    {
        if (await replay.ReadLatestWeightsAsync(CancellationToken.None).ConfigureAwait(false) is { } latest
            && fanOut.Publish(new WeightsSnapshot(latest.Version, latest.Actor)))
            logger.LogDebug("Weights version {Version} ({Bytes} bytes) now streamed to {Streams} workers", latest.Version, latest.Actor.Length, fanOut.SubscriberCount);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reconcile = TimeSpan.FromMilliseconds(options.WeightsReconcileMs);
        long wanted = long.MaxValue; // unknown at start: fetch whatever is there
        bool failing = false;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    _subscription ??= await SubscribeAsync(stoppingToken).ConfigureAwait(false);
                    if (wanted > fanOut.LatestVersion) await CatchUpAsync(stoppingToken).ConfigureAwait(false);
                    if (failing) logger.LogInformation("Weights follower reconnected to Redis");
                    failing = false;
                    wanted = await NextWantedVersionAsync(_announced.Reader, reconcile, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (RedisFailure.IsTransient(e))
                {
                    if (!failing) logger.LogWarning("Weights follower cannot reach Redis ({Error}); retrying every {Ms} ms", e.Message, options.WeightsReconcileMs);
                    failing = true;
                    wanted = long.MaxValue;
                    await Task.Delay(reconcile, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (_subscription is not null) await _subscription.DisposeAsync().ConfigureAwait(false);
        }
    }

    private Task<IAsyncDisposable> SubscribeAsync(CancellationToken ct) =>
        replay.SubscribeWeightsAsync(version => _announced.Writer.TryWrite(version), ct);

    /// <summary>The version announced on the channel, or after a quiet period the one recorded in Redis.</summary>
    private async Task<long> NextWantedVersionAsync(ChannelReader<long> announced, TimeSpan reconcile, CancellationToken stoppingToken)
    {
        using var quiet = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        quiet.CancelAfter(reconcile);
        try
        {
            await announced.WaitToReadAsync(quiet.Token).ConfigureAwait(false);
            if (announced.TryRead(out var version)) return version;
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
        }
        var (_, published) = await replay.ReadLearnerProgressAsync(stoppingToken).ConfigureAwait(false);
        return published;
    }
}
