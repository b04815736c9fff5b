using Prometheus;

namespace DistSac.Learner;

/// <summary>
/// The learner's probe state and Prometheus metrics, in a registry of its own. Updated where the loop already has the
/// numbers (LogProgress, the rate limiter's wait branch, publishing); the per-update cost is one counter increment.
/// </summary>
public sealed class LearnerExporter
{
    public const string WarmupReason = "warmup";
    public const string LearnerAheadReason = "learner_ahead";

    private readonly Counter _updates;
    private readonly Gauge _updatesPerSecond;
    private readonly Gauge _envSteps;
    private readonly Gauge _envStepsPerSecond;
    private readonly Gauge _replayFill;
    private readonly Counter _samples;
    private readonly Gauge _stalenessMean;
    private readonly Gauge _stalenessMax;
    private readonly Counter _waitSeconds;
    private readonly Gauge.Child _waitingWarmup;
    private readonly Gauge.Child _waitingAhead;
    private readonly Gauge _weightsVersion;
    private readonly Gauge _evalReturn;
    private readonly Gauge _alpha;
    private readonly Gauge _criticLoss;
    private readonly Gauge _actorLoss;
    private readonly Gauge _workersActive;
    private readonly Gauge _workersSeen;
    private readonly Counter _checkpointWriteFailures;
    private readonly Counter _runFileWriteFailures;
    private readonly Gauge _checkpointUpdates;
    private Gauge.Child[] _fillByShard = [];
    private string? _waiting;
    private volatile bool _ready;
    private volatile bool _replayDown;
    private Gauge _replayUnavailable = null!;
    private readonly Counter _quarantined;
    private readonly Counter _skippedUpdates;

    public LearnerExporter()
    {
        Registry = Metrics.NewCustomRegistry();
        var f = Metrics.WithCustomRegistry(Registry);
        _updates = f.CreateCounter("distsac_updates_total", "SAC gradient updates done (this run, including resumed ones).");
        _updatesPerSecond = f.CreateGauge("distsac_updates_per_second", "Updates per second over the last log interval.");
        _envSteps = f.CreateGauge("distsac_env_steps", "Transitions stored run-wide.");
        _envStepsPerSecond = f.CreateGauge("distsac_env_steps_per_second", "Run-wide stored transitions per second over the last log interval.");
        _replayFill = f.CreateGauge("distsac_replay_fill", "Transitions held by each replay shard.", "shard");
        _samples = f.CreateCounter("distsac_samples_total", "Batches sampled from the replay by this learner process.");
        _stalenessMean = f.CreateGauge("distsac_staleness_mean", "Mean policy staleness (updates) of sampled transitions over the last log interval.");
        _stalenessMax = f.CreateGauge("distsac_staleness_max", "Largest policy staleness (updates) sampled over the last log interval.");
        _waitSeconds = f.CreateCounter("distsac_rate_limiter_wait_seconds_total", "Time the learner waited on the samples-per-insert rate limiter.");
        var waiting = f.CreateGauge("distsac_rate_limiter_waiting", "1 while the learner waits on the rate limiter for this reason.", "reason");
        _waitingWarmup = waiting.WithLabels(WarmupReason);
        _waitingAhead = waiting.WithLabels(LearnerAheadReason);
        _weightsVersion = f.CreateGauge("distsac_weights_version", "Latest actor weights version published (-1: none yet).");
        _evalReturn = f.CreateGauge("distsac_eval_return", "Mean return of the last deterministic evaluation.");
        _alpha = f.CreateGauge("distsac_alpha", "SAC entropy temperature.");
        _criticLoss = f.CreateGauge("distsac_critic_loss", "Critic loss of the last update.");
        _actorLoss = f.CreateGauge("distsac_actor_loss", "Actor loss of the last update.");
        _workersActive = f.CreateGauge("distsac_workers_active", "Workers whose stored transitions grew in the last 30 s (from the replay, any gateway).");
        _workersSeen = f.CreateGauge("distsac_workers_seen", "Workers that stored at least one transition in this run.");
        _replayUnavailable = f.CreateGauge("distsac_replay_unavailable", "1 while the learner waits for an unreachable replay shard.");
        _quarantined = f.CreateCounter("distsac_learner_quarantined_records_total", "Sampled records the learner refused to train on (non-finite or out of range), replaced by good rows.");
        _skippedUpdates = f.CreateCounter("distsac_updates_skipped_total", "Updates whose optimizer step was skipped because a gradient was NaN or infinite.");
        _checkpointWriteFailures = f.CreateCounter("distsac_checkpoint_write_failures_total", "Checkpoint writes that failed (read-only or full disk); each is retried at the next interval.");
        _runFileWriteFailures = f.CreateCounter("distsac_run_file_write_failures_total", "Writes of metrics.jsonl or the TensorBoard event file that failed (read-only or full disk); the line is dropped and training goes on.");
        _checkpointUpdates = f.CreateGauge("distsac_checkpoint_updates", "Update count of the last checkpoint written by this process (-1: none yet).");
        _weightsVersion.Set(-1);
        _checkpointUpdates.Set(-1);
        _waitingWarmup.Set(0);
        _waitingAhead.Set(0);
    }

    public CollectorRegistry Registry { get; }

    /// <summary>True once the run metadata is initialized and the first weights are published.</summary>
    public bool Ready => _ready && !_replayDown;

    /// <summary>While a shard is unreachable the learner waits: not ready, and the gauge says why.</summary>
    internal void ReplayUnavailable(bool down)
    {
        _replayDown = down;
        _replayUnavailable.Set(down ? 1 : 0);
    }

    internal void Published(long version)
    {
        _weightsVersion.Set(version);
        _ready = true;
    }

    internal void Sampled() => _samples.Inc();

    internal void Quarantined(long records) => _quarantined.IncTo(records);

    internal void SkippedUpdate() => _skippedUpdates.Inc();

    internal void CheckpointWriteFailed() => _checkpointWriteFailures.Inc();

    internal void RunFileWritesFailed(long total) => _runFileWriteFailures.IncTo(total);

    internal void CheckpointWritten(long updates) => _checkpointUpdates.Set(updates);

    /// <summary>Sets the waiting gauges; <paramref name="reason"/> null means not waiting. Touches them only on a change.</summary>
    internal void Waiting(string? reason)
    {
        if (ReferenceEquals(reason, _waiting)) return;
        _waiting = reason;
        _waitingWarmup.Set(ReferenceEquals(reason, WarmupReason) ? 1 : 0);
        _waitingAhead.Set(ReferenceEquals(reason, LearnerAheadReason) ? 1 : 0);
    }

    internal void Observe(LearnerMetrics m, double rateLimiterWaitSeconds)
    {
        _updates.IncTo(m.Updates);
        _updatesPerSecond.Set(m.UpdatesPerS);
        _envSteps.Set(m.EnvSteps);
        _envStepsPerSecond.Set(m.EnvStepsPerS);
        if (_fillByShard.Length != m.ShardFill.Length)
        {
            _fillByShard = new Gauge.Child[m.ShardFill.Length];
            for (int i = 0; i < _fillByShard.Length; i++)
                _fillByShard[i] = _replayFill.WithLabels(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        for (int i = 0; i < _fillByShard.Length; i++) _fillByShard[i].Set(m.ShardFill[i]);
        _workersActive.Set(m.WorkersActive);
        _workersSeen.Set(m.WorkersSeen);
        _stalenessMean.Set(m.StalenessMean);
        _stalenessMax.Set(m.StalenessMax);
        _waitSeconds.IncTo(rateLimiterWaitSeconds);
        if (m.EvalReturn is { } eval) _evalReturn.Set(eval);
        _alpha.Set(m.Alpha);
        _criticLoss.Set(m.CriticLoss);
        _actorLoss.Set(m.ActorLoss);
    }
}
