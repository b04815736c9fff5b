using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DistSac.Gateway;

/// <summary>Logs the counters every <see cref="GatewayOptions.StatusLogIntervalMs"/> while there is traffic, so `local` and pod logs show ingest at a glance.</summary>
public sealed class GatewayStatusReporter(GatewayCounters counters, WeightsFanOut weights, GatewayOptions options, ILogger<GatewayStatusReporter> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.StatusLogIntervalMs == 0) return;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.StatusLogIntervalMs));
        var last = counters.Snapshot();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var now = counters.Snapshot();
                if (now.Pushes == last.Pushes && now.WeightStreams == last.WeightStreams && now.WeightsSent == last.WeightsSent) continue;
                double seconds = options.StatusLogIntervalMs / 1000.0;
                logger.LogInformation(
                    "ingest {Rate:F0} transitions/s | stored {Stored} | pushes {Pushes} | rejected {Rejected} | duplicates {Duplicates} | unavailable {Unavailable} | held {Held} pushes {HeldSeconds:F1} s | weights v{Version} to {Streams} streams",
                    (now.TransitionsStored - last.TransitionsStored) / seconds, now.TransitionsStored, now.Pushes, now.Rejected, now.Duplicates,
                    now.Unavailable, now.HeldPushes, now.HeldSeconds, weights.LatestVersion, now.WeightStreams);
                last = now;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
