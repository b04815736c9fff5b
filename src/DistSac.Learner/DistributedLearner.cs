using DistSac.Observability;
using System.Diagnostics;
using System.Runtime.InteropServices;
using DistSac.Envs;
using DistSac.Learning;
using DistSac.Learning.Replay;
using DistSac.Learning.Training;
using DistSac.Protocol;
using DistSac.Replay;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistSac.Learner;

/// <summary>The outcome of a learner run.</summary>
/// <param name="FinalEvaluation">Null when the run was stopped (SIGTERM, Ctrl-C): the evaluation is skipped so the stop fits the grace period.</param>
/// <param name="Stopped">True when the run ended because it was asked to stop, not because training finished.</param>
/// <param name="CheckpointSaved">False when the final checkpoint could not be written (logged as an error).</param>
public sealed record LearnerResult(string RunDirectory, long Updates, long EnvSteps, double Seconds, EvaluationResult? FinalEvaluation, long? FirstStepReachingThreshold,
    bool Stopped = false, bool CheckpointSaved = true);

/// <summary>
/// The learner role: writes the run's metadata, then samples batches from its mirror of the Redis shards (or from Redis), runs SAC
/// updates, publishes actor weights every K updates, evaluates, checkpoints, and respects the samples-per-insert rate
/// limiter. A restarted learner resumes from its run directory's checkpoint.
/// </summary>
public sealed partial class DistributedLearner
{
    private readonly LearnerOptions _options;
    private readonly SacOptions _sac;
    private readonly ReplayOptions _replayOptions;
    private readonly ILogger _logger;
    private readonly Action<LearnerMetrics>? _onMetrics;
    private long _versionOffset;
    private WeightsPublisher? _publisher;

    public DistributedLearner(LearnerOptions options, SacOptions sac, ReplayOptions replay, ILogger? logger = null, Action<LearnerMetrics>? onMetrics = null)
    {
        options.Validate();
        sac.Validate();
        replay.Validate();
        _options = options;
        _sac = sac;
        _replayOptions = replay;
        _logger = logger ?? NullLogger.Instance;
        _onMetrics = onMetrics;
    }

    /// <summary>Probe state and Prometheus metrics; served on Learner:HttpListen when it is set.</summary>
    public LearnerExporter Exporter { get; } = new();

    public async Task<LearnerResult> RunAsync(CancellationToken ct)
    {
        // /healthz answers for as long as the run is in progress; /readyz once metadata and the first weights are out.
        await using var probes = string.IsNullOrEmpty(_options.HttpListen)
            ? null
            : ProbeListener.Start(_options.HttpListen, () => Exporter.Ready, Exporter.Registry, _logger);
        return await TrainAsync(ct);
    }

    private async Task<LearnerResult> TrainAsync(CancellationToken ct)
    {
        var spec = EnvironmentRegistry.GetSpec(_options.Env);
        var device = TorchRuntime.ResolveDevice(_options.Device);
        var (threads, concurrent) = TorchRuntime.ConfigureThreads(_options.Threads, device);
        int o = spec.ObservationSize, a = spec.ActionSize;
        var record = new TransitionRecord(o, a);
        var layout = new TransitionLayout(o, a);
        var run = CreateRunDirectory(new { Learner = _options, Sac = _sac, Replay = _replayOptions with { Password = null }, Device = device.ToString(), Threads = threads });

        // Unreachable at start fails fast (usually a wrong address; on a cluster the container restarts with back-off);
        // once connected, outages are waited out (UntilAvailableAsync).
        await using var replay = await ShardedReplay.ConnectAsync(_replayOptions, _logger, ct);
        // The learner owns the rate-limit contract: gateways hold pushes by the copy in the run metadata, so both halves
        // of the limiter are built from this one value.
        var contract = RateLimitContract.ForLearner(_options.UpdatesPerTransition, _options.RateLimitTolerance, _options.WarmupTransitions, _sac.BatchSize);
        var metadata = new ReplayMetadata(_replayOptions.RunId, _options.Env, o, a, record.RecordBytes, _options.Seed,
            _options.WarmupTransitions, _replayOptions.CapacityPerShard, replay.ShardCount, ReplayLimits.SchemaVersion, contract);
        await replay.InitializeRunAsync(metadata, ct);

        using var learner = new SacLearner(o, a, spec.ActionLow, spec.ActionHigh, _sac, device, _options.Seed, concurrent);
        var checkpoints = new LearnerCheckpointSaver(run, _options.Env, Exporter, _logger);
        var resumed = checkpoints.Load(learner);
        var latestStored = (await UntilAvailableAsync(replay.ReadLatestWeightsAsync, ct))?.Version;
        checkpoints.WeightsVersionOffset = WeightsVersionOffset.Resume(resumed?.WeightsVersionOffset ?? 0, learner.UpdateCount, latestStored);
        if (latestStored is { } stored && checkpoints.WeightsVersionOffset != (resumed?.WeightsVersionOffset ?? 0))
            _logger.LogInformation("Weights version {Stored} is already published for this run; versions continue from {Next}",
                stored, checkpoints.WeightsVersionOffset + learner.UpdateCount);
        _versionOffset = checkpoints.WeightsVersionOffset;
        await PublishWeightsAsync(replay, learner, ct);
        Exporter.Published(WeightsVersion(learner));
        _logger.LogInformation("Learner ready: run {RunId}, env {Env}, {Shards} shard(s), device {Device}, {Threads} thread(s){Streams}",
            _replayOptions.RunId, _options.Env, replay.ShardCount, device, threads, concurrent ? " as two concurrent streams" : "");

        using var staging = new BatchStaging(layout, _sac.BatchSize, device);
        using var metrics = new MetricsWriter(run.MetricsPath, RunFiles);
        using var board = OpenEventFile(run);
        var limiter = contract.CreateLimiter();
        await using var mirror = _mirror = StartMirror(replay, metadata);
        await using var batches = OpenBatchSource(replay);
        var loop = new LoopState(Stopwatch.StartNew(), learner.UpdateCount);
        // The same bounds the gateway enforces at the door: Redis can be written by anything that reaches it.
        var bounds = EnvironmentBounds.For(spec, RecordBounds.DefaultMaxAbsValue);
        var screen = new BatchScreen(record.RecordBytes, r => bounds.Validate(r, 1), _logger);
        var badUpdates = new BadUpdateGuard(_options.MaxConsecutiveBadUpdates);
        var inserts = new WakeSignal();
        long targetUpdates = limiter.Enabled ? (long)Math.Ceiling((_options.Steps - limiter.MinTransitionsToSample) * limiter.UpdatesPerTransition) : long.MaxValue;
        // Declared after the replay connection, the mirror and the networks, so disposed before them on every way out.
        await using var background = new BackgroundWork(this, ct);
        // At most once a second (LoopState.ShouldCheckRun), from the loop and while it waits for a batch.
        Func<Task> checkRun = () => loop.ShouldCheckRun() ? UntilAvailableAsync(c => RestoreRunIfLostAsync(replay, metadata, learner, c), ct) : Task.CompletedTask;

        try
        {
            // Inside the try: a stop while the shard is down for this subscription still writes the checkpoint.
            await using var insertMessages = await UntilAvailableAsync(c => replay.SubscribeInsertsAsync(_ => inserts.Set(), c), ct);
            while (!ct.IsCancellationRequested)
            {
                // A failed background send ends the run here, with its own exception, not PublishEvery updates later
                // (or never, while the learner waits for inserts that the progress it failed to send holds back).
                if (_publisher is { SendFailed: true } failed) await failed.WaitAsync();
                await checkRun();
                await RefreshStatsAsync(replay, loop, learner.UpdateCount, background.Token);
                var inserted = loop.Stats?.TotalInserted ?? 0;
                if (inserted >= _options.Steps && learner.UpdateCount >= targetUpdates) break;
                if (!limiter.LearnerMayUpdate(learner.UpdateCount, inserted))
                {
                    if (!limiter.Enabled && inserted >= _options.Steps) break;
                    var waitStart = loop.Clock.Elapsed;
                    loop.LastWaitReason = limiter.Reason(learner.UpdateCount, inserted);
                    Exporter.Waiting(inserted < Math.Max(limiter.MinTransitionsToSample, 1) ? LearnerExporter.WarmupReason : LearnerExporter.LearnerAheadReason);
                    await WaitForInsertsAsync(replay, limiter, learner, loop, inserts, ct);
                    loop.RateLimiterWait += loop.Clock.Elapsed - waitStart;
                    if (loop.Clock.Elapsed - loop.LastLogTime > TimeSpan.FromSeconds(5)) await LogProgressAsync(replay, learner, loop, metrics, null, ct);
                    continue;
                }

                Exporter.Waiting(null);
                var sampleStart = loop.Clock.Elapsed;
                var batch = await NextBatchAsync(batches, replay, loop, checkRun, ct);
                Exporter.Sampled();
                loop.SampleWait += loop.Clock.Elapsed - sampleStart;
                bool usable = screen.Screen(batch);
                Exporter.Quarantined(screen.Quarantined);
                if (usable) CopyBatch(batch, record, staging.HostRows, WeightsVersion(learner), loop);
                batches.Return(batch);
                if (!usable)
                {
                    badUpdates.Record(applied: false, "every record of a sampled batch failed the checks");
                    continue;
                }
                staging.Upload();
                long updateStart = Stopwatch.GetTimestamp();
                learner.Update(staging.Observations, staging.Actions, staging.Rewards, staging.NextObservations, staging.Terminated);
                loop.UpdateTime += Stopwatch.GetElapsedTime(updateStart);
                if (!learner.LastUpdateApplied)
                {
                    Exporter.SkippedUpdate();
                    if (badUpdates.Consecutive == 0)
                        _logger.LogWarning("update {Update}: a gradient was NaN or infinite; that optimizer step was skipped (distsac_updates_skipped_total)", learner.UpdateCount);
                }
                badUpdates.Record(learner.LastUpdateApplied, "gradients were NaN or infinite");

                var updates = learner.UpdateCount;
                if (updates % _options.PublishEvery == 0) await StartPublishingAsync(replay, learner, untilAvailable: true, finished: false, background.Token);
                EvaluationResult? evaluation = null;
                if (updates % _options.EvalInterval == 0)
                {
                    evaluation = TorchPolicyEvaluator.Evaluate(learner.Actor, _options.Env, _options.EvalEpisodes, TorchPolicyEvaluator.EvaluationSeed(_options.Seed), device);
                    loop.LastEvaluation = evaluation;
                    if (loop.FirstStepReaching is null && _options.StopAtEvalReturn is { } goal && evaluation.Value.MeanReturn >= goal)
                        loop.FirstStepReaching = inserted;
                }
                if (evaluation is not null || updates % _options.LogInterval == 0) await LogProgressAsync(replay, learner, loop, metrics, evaluation, ct);
                if (_options.CheckpointInterval > 0 && updates % _options.CheckpointInterval == 0) checkpoints.TrySave(learner, inserted);
                if (evaluation is not null && loop.FirstStepReaching is not null) break;
            }
        }
        catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or ReplayUnavailableException)
        {
            // Stopped while waiting (rate limiter, a batch, an unreachable shard): the checkpoint below is still written.
        }

        return await FinishAsync(replay, learner, checkpoints, loop, metrics, run, device, stopped: ct.IsCancellationRequested);
    }

    /// <summary>
    /// Runs a replay call until it succeeds: a shard that restarts or is rescheduled pauses the learner (not ready,
    /// distsac_replay_unavailable = 1) instead of ending the run, for up to Learner:ReplayOutageTimeoutSeconds.
    /// </summary>
    private async Task<T> UntilAvailableAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        Stopwatch? outage = null;
        TimeSpan lastReport = TimeSpan.Zero;
        while (true)
        {
            try
            {
                var result = await call(ct);
                if (outage is not null)
                {
                    Exporter.ReplayUnavailable(false);
                    _logger.LogInformation("replay reachable again after {Seconds:F1} s; training continues", outage.Elapsed.TotalSeconds);
                }
                return result;
            }
            catch (ReplayUnavailableException ex) when (!ct.IsCancellationRequested)
            {
                if (outage is null)
                {
                    outage = Stopwatch.StartNew();
                    Exporter.ReplayUnavailable(true);
                    _logger.LogWarning("{Message}; waiting up to {Timeout} s for it (Learner:ReplayOutageTimeoutSeconds)", ex.Message, _options.ReplayOutageTimeoutSeconds);
                }
                else if (outage.Elapsed - lastReport >= TimeSpan.FromSeconds(30))
                {
                    lastReport = outage.Elapsed;
                    _logger.LogWarning("replay still unreachable after {Seconds:F0} s: {Message}", outage.Elapsed.TotalSeconds, ex.Message);
                }
                if (outage.Elapsed >= TimeSpan.FromSeconds(_options.ReplayOutageTimeoutSeconds)) throw;
                await Task.Delay(backoff, ct);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }
    }

    /// <summary>
    /// The learner owns the run: when a shard comes back empty (restarted without persistence, flushed) or missed its
    /// writes while it was down (restarted from an older append-only file), the metadata, the latest weights and the
    /// learner's progress are written again from the learner's own state, so gateways and workers carry on without a
    /// person restarting anything. One EXISTS per shard a second while nothing is wrong; a shard that is down is skipped.
    /// </summary>
    private async Task<bool> RestoreRunIfLostAsync(ShardedReplay replay, ReplayMetadata metadata, SacLearner learner, CancellationToken ct)
    {
        var gaps = await replay.ShardsNeedingRunStateAsync(ct);
        if (!gaps.Any) return false;
        if (gaps.MissingMetadata.Count > 0)
            _logger.LogWarning("run {RunId}: its metadata is gone from shard(s) {Shards} (restarted empty or flushed?); re-creating it with the latest weights and progress",
                _replayOptions.RunId, string.Join(", ", gaps.MissingMetadata));
        if (gaps.Stale.Count > 0)
            _logger.LogInformation("run {RunId}: shard(s) {Shards} are back after missing run-state writes; writing the metadata, latest weights and progress there again",
                _replayOptions.RunId, string.Join(", ", gaps.Stale));
        await replay.InitializeRunAsync(metadata, ct);
        await PublishWeightsAsync(replay, learner, ct);
        return true;
    }

    /// <summary>Publishes the current weights and progress and waits until they are stored (start, restore, end of the run).</summary>
    /// <param name="finished">Training ended normally: gateways stop holding pushes, so workers finish without waiting.</param>
    private async Task PublishWeightsAsync(ShardedReplay replay, SacLearner learner, CancellationToken ct, bool finished = false)
    {
        await StartPublishingAsync(replay, learner, untilAvailable: false, finished, ct);
        await _publisher!.WaitAsync();
    }

    /// <summary>
    /// Checks the networks and copies the actor now, then stores the weights and the progress in the background
    /// (<see cref="WeightsPublisher"/>); waits only for the previous publish. <paramref name="untilAvailable"/>: an
    /// unreachable replay is waited out (<see cref="UntilAvailableAsync{T}"/>) by the background send, as the loop did.
    /// </summary>
    private async Task StartPublishingAsync(ShardedReplay replay, SacLearner learner, bool untilAvailable, bool finished, CancellationToken ct)
    {
        // Skipped steps keep the weights finite; this is the last line that keeps a poisoned actor from the workers.
        if (!learner.ParametersAreFinite())
            throw new LearnerDivergedException($"update {learner.UpdateCount}: the networks hold NaN or infinite values; nothing was published. The last good checkpoint is kept.");
        _publisher ??= new WeightsPublisher(learner.Actor);
        long version = WeightsVersion(learner);
        var progress = new LearnerProgress(learner.UpdateCount, version, finished);
        await _publisher.StartAsync(learner.Actor, version, async (actor, c) =>
        {
            try
            {
                if (untilAvailable) await UntilAvailableAsync(async c2 => { await SendWeightsAsync(replay, version, actor, progress, c2); return true; }, c);
                else await SendWeightsAsync(replay, version, actor, progress, c);
            }
            catch (Exception e) when (e is not OperationCanceledException && (untilAvailable || e is not ReplayUnavailableException))
            {
                // A failure that ends the run (an outage the caller waits out is not one), rethrown where the loop next
                // looks (its next iteration, the end of the run); this line names the version.
                _logger.LogError("Weights version {Version} could not be published: {Reason}", version, e.Message);
                throw;
            }
            Exporter.Published(version);
        }, ct);
    }

    private static async Task SendWeightsAsync(ShardedReplay replay, long version, ReadOnlyMemory<byte> actor, LearnerProgress progress, CancellationToken ct)
    {
        await replay.PublishWeightsAsync(version, actor, ct);
        await replay.PublishLearnerProgressAsync(progress, ct);
    }

    /// <summary>Copies the float part of each record into the batch row and accumulates policy staleness.</summary>
    private static void CopyBatch(PrefetchedBatch batch, TransitionRecord record, Span<float> rows, long currentVersion, LoopState loop)
    {
        int floats = record.FloatCount;
        var bytes = batch.Span;
        for (int i = 0; i < batch.Count; i++)
        {
            var r = bytes.Slice(i * record.RecordBytes, record.RecordBytes);
            MemoryMarshal.Cast<byte, float>(r[..(4 * floats)]).CopyTo(rows.Slice(i * floats, floats));
            var version = record.PolicyVersion(r);
            if (version >= 0) loop.AddStaleness(currentVersion - version);
        }
    }
}
