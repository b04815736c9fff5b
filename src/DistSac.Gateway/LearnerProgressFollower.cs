using DistSac.Replay;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DistSac.Gateway;

/// <summary>
/// The gateway's subscription to the run's learner channel: each progress message goes straight into
/// <see cref="ReplayProgressMonitor"/>, which wakes the pushes the rate limiter holds. Replaces polling Redis for the
/// learner's progress; a lost message (pub/sub drops them while disconnected) is covered by the held pushes' own
/// reconcile read every <see cref="GatewayOptions.ProgressReconcileMs"/>. StackExchange.Redis re-subscribes by itself
/// after a reconnect, so only the first subscribe needs retrying.
/// </summary>
public sealed class LearnerProgressFollower(ShardedReplay replay, ReplayProgressMonitor monitor, GatewayOptions options, ILogger<LearnerProgressFollower> logger)
    : BackgroundService
{
    private IAsyncDisposable? _subscription;

    /// <summary>Subscribes before the gateway takes calls, so no message sent after start is missed.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            _subscription = await SubscribeAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailure.IsTransient(e))
        {
            logger.LogWarning("Cannot subscribe to learner progress yet ({Error}); held pushes re-read it every {Ms} ms meanwhile", e.Message, options.ProgressReconcileMs);
        }
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retry = TimeSpan.FromMilliseconds(options.ProgressReconcileMs);
        try
        {
            while (_subscription is null)
            {
                await Task.Delay(retry, stoppingToken).ConfigureAwait(false);
                try
                {
                    _subscription = await SubscribeAsync(stoppingToken).ConfigureAwait(false);
                    logger.LogInformation("Subscribed to learner progress");
                }
                catch (Exception e) when (RedisFailure.IsTransient(e))
                {
                }
            }
            await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (_subscription is not null) await _subscription.DisposeAsync().ConfigureAwait(false);
        }
    }

    private Task<IAsyncDisposable> SubscribeAsync(CancellationToken ct) => replay.SubscribeLearnerProgressAsync(monitor.ApplyLearnerProgress, ct);
}
