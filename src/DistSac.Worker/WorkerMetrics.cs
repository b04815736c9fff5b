using System.Diagnostics;
using Prometheus;

namespace DistSac.Worker;

/// <summary>
/// The worker's probe state and Prometheus metrics, in a registry of its own. The rollout parts are attached once the
/// worker steps; values are read from their counters when scraped, so the stepping loop pays nothing.
/// </summary>
public sealed class WorkerMetrics
{
    private readonly Lock _gate = new();
    private readonly Counter _steps;
    private readonly Gauge _stepsPerSecond;
    private readonly Counter _pushed;
    private readonly Counter _retries;
    private readonly Counter _unexpectedDuplicates;
    private readonly Counter _rebound;
    private readonly Gauge _weightsVersion;
    private readonly Gauge _episodeReturn;
    private RolloutLoop? _loop;
    private BatchPusher? _pusher;
    private WeightsWatcher? _watcher;
    private long _lastSteps;
    private long _lastTimestamp;
    private volatile bool _stepping;

    public WorkerMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        _steps = factory.CreateCounter("distsac_env_steps_total", "Transitions stepped by this worker.");
        _stepsPerSecond = factory.CreateGauge("distsac_env_steps_per_second", "Env steps per second since the previous scrape.");
        _pushed = factory.CreateCounter("distsac_transitions_pushed_total", "Transitions acknowledged by the gateway.");
        _retries = factory.CreateCounter("distsac_push_retries_total", "Push calls retried after a failure.");
        _unexpectedDuplicates = factory.CreateCounter("distsac_push_unexpected_duplicates_total",
            "Batches the gateway answered duplicate on their first try (not stored by this worker's push; logged as errors).");
        _rebound = factory.CreateCounter("distsac_push_rebound_batches_total",
            "Batches the gateway certainly did not store because their shard was down, sent again on another shard's lane.");
        _weightsVersion = factory.CreateGauge("distsac_weights_version", "Latest actor weights version received (-1: none yet).");
        _episodeReturn = factory.CreateGauge("distsac_episode_return", "Return of the last completed episode.");
        _weightsVersion.Set(-1);
        Registry.AddBeforeCollectCallback(Refresh);
    }

    public CollectorRegistry Registry { get; }

    /// <summary>True once GetRunInfo succeeded and the rollout loop runs; false again when it stops.</summary>
    public bool Ready => _stepping;

    public void Stepping(RolloutLoop loop, BatchPusher pusher, WeightsWatcher watcher)
    {
        lock (_gate)
        {
            _loop = loop;
            _pusher = pusher;
            _watcher = watcher;
            _lastSteps = loop.Steps;
            _lastTimestamp = Stopwatch.GetTimestamp();
        }
        _stepping = true;
    }

    public void Stopped() => _stepping = false;

    private void Refresh()
    {
        lock (_gate)
        {
            if (_loop is null || _pusher is null || _watcher is null) return;
            long steps = _loop.Steps;
            long now = Stopwatch.GetTimestamp();
            double seconds = (double)(now - _lastTimestamp) / Stopwatch.Frequency;
            if (seconds > 0) _stepsPerSecond.Set((steps - _lastSteps) / seconds);
            _lastSteps = steps;
            _lastTimestamp = now;
            _steps.IncTo(steps);
            _pushed.IncTo(_pusher.AcknowledgedTransitions);
            _retries.IncTo(_pusher.Retries);
            _unexpectedDuplicates.IncTo(_pusher.UnexpectedDuplicates);
            _rebound.IncTo(_pusher.ReboundBatches);
            _weightsVersion.Set(_watcher.KnownVersion);
            if (_loop.CompletedEpisodes > 0) _episodeReturn.Set(_loop.LastEpisodeReturn);
        }
    }
}
