using System.Globalization;
using DistSac.Replay;
using Prometheus;

namespace DistSac.Gateway;

/// <summary>
/// The gateway's Prometheus view of <see cref="GatewayCounters"/>, in a registry of its own (several gateways can share
/// a test process). Values are copied from the lock-free counters when scraped, so the push path pays nothing extra.
/// </summary>
public sealed class GatewayMetrics
{
    private static readonly TimeSpan FillReadTimeout = TimeSpan.FromSeconds(2);

    private readonly GatewayCounters _counters;
    private readonly WeightsFanOut _weights;
    private readonly ShardedReplay _replay;
    private readonly Counter _pushes;
    private readonly Counter _transitionsPushed;
    private readonly Counter _rejected;
    private readonly Counter _duplicates;
    private readonly Counter _heldSeconds;
    private readonly Gauge _holding;
    private readonly Gauge _weightsVersion;
    private readonly Gauge _weightStreams;
    private readonly Gauge _replayFill;

    public GatewayMetrics(GatewayCounters counters, WeightsFanOut weights, ShardedReplay replay)
    {
        _counters = counters;
        _weights = weights;
        _replay = replay;
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        _pushes = factory.CreateCounter("distsac_gateway_pushes_total", "Push calls received.");
        _transitionsPushed = factory.CreateCounter("distsac_transitions_pushed_total", "Transitions written to the shards.");
        _rejected = factory.CreateCounter("distsac_transitions_rejected_total", "Pushes refused as invalid (nothing stored).");
        _duplicates = factory.CreateCounter("distsac_push_duplicates_total", "Retried pushes acknowledged without storing.");
        _heldSeconds = factory.CreateCounter("distsac_rate_limiter_held_seconds_total", "Time acknowledgements were held by the rate limiter.");
        _holding = factory.CreateGauge("distsac_rate_limiter_holding", "Pushes held by the rate limiter right now.");
        _weightsVersion = factory.CreateGauge("distsac_weights_version", "Latest actor weights version this gateway fans out (-1: none yet).");
        _weightStreams = factory.CreateGauge("distsac_weight_streams", "Open WatchWeights streams.");
        _replayFill = factory.CreateGauge("distsac_replay_fill", "Transitions held by each replay shard.", "shard");
        Registry.AddBeforeCollectCallback(RefreshAsync);
    }

    public CollectorRegistry Registry { get; }

    private async Task RefreshAsync(CancellationToken ct)
    {
        var now = _counters.Snapshot();
        _pushes.IncTo(now.Pushes);
        _transitionsPushed.IncTo(now.TransitionsStored);
        _rejected.IncTo(now.Rejected);
        _duplicates.IncTo(now.Duplicates);
        _heldSeconds.IncTo(now.HeldSeconds);
        _holding.Set(now.Holding);
        _weightsVersion.Set(_weights.LatestVersion);
        _weightStreams.Set(now.WeightStreams);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(FillReadTimeout);
        try
        {
            var stats = await _replay.ReadStatsAsync(timeout.Token).ConfigureAwait(false);
            foreach (var shard in stats.Shards)
                _replayFill.WithLabels(shard.Shard.ToString(CultureInfo.InvariantCulture)).Set(shard.Fill);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // Redis down: keep the last fill seen; /readyz reports the outage.
        }
    }
}
