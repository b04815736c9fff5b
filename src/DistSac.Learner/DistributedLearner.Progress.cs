using System.Diagnostics;
using DistSac.Learning;
using DistSac.Learning.Training;
using DistSac.Replay;
using DistSac.TensorBoard;
using Microsoft.Extensions.Logging;

namespace DistSac.Learner;

public sealed partial class DistributedLearner
{
    /// <summary>Mutable bookkeeping of the update loop (throughput windows, staleness, waits).</summary>
    private sealed class LoopState(Stopwatch clock, long startUpdates)
    {
        public Stopwatch Clock { get; } = clock;
        public ReplayStats? Stats { get; set; }
        public TimeSpan RateLimiterWait { get; set; }
        public TimeSpan SampleWait { get; set; }
        /// <summary>Wall time inside the gradient update itself (both streams): the rest of the loop's time is its overhead.</summary>
        public TimeSpan UpdateTime { get; set; }
        public string? LastWaitReason { get; set; }
        public EvaluationResult? LastEvaluation { get; set; }
        public long? FirstStepReaching { get; set; }
        public TimeSpan LastLogTime { get; set; }
        public long LastLogUpdates { get; set; } = startUpdates;
        public long LastLogSteps { get; set; }
        private long _lastStatsUpdate = long.MinValue;
        private TimeSpan _lastStatsTime;
        public double StalenessSum;
        public long StalenessCount;
        public long StalenessMax;
        public WorkerActivity Workers { get; } = new(TimeSpan.FromSeconds(30));
        private TimeSpan? _lastWorkersRead;

        private TimeSpan? _lastRunCheck;

        /// <summary>Whether every shard that answers still holds the run is checked once a second.</summary>
        public bool ShouldCheckRun()
        {
            if (_lastRunCheck is { } last && Clock.Elapsed - last < TimeSpan.FromSeconds(1)) return false;
            _lastRunCheck = Clock.Elapsed;
            return true;
        }

        /// <summary>Worker counts cost one HGETALL per shard: read at most once a second, only when a line is logged.</summary>
        public bool ShouldReadWorkers()
        {
            if (_lastWorkersRead is { } last && Clock.Elapsed - last < TimeSpan.FromSeconds(1)) return false;
            _lastWorkersRead = Clock.Elapsed;
            return true;
        }

        /// <summary>Stats cost one round trip per shard: refresh every 8 updates or 20 ms, whichever first.</summary>
        public bool ShouldRefreshStats(long updates)
        {
            if (Stats is null || updates - _lastStatsUpdate >= 8 || Clock.Elapsed - _lastStatsTime > TimeSpan.FromMilliseconds(20))
            {
                _lastStatsUpdate = updates;
                _lastStatsTime = Clock.Elapsed;
                return true;
            }
            return false;
        }

        public void AddStaleness(long staleness)
        {
            StalenessSum += staleness;
            StalenessCount++;
            if (staleness > StalenessMax) StalenessMax = staleness;
        }
    }

    /// <summary>runs/&lt;id&gt;/tb/: written at every metrics line, beside metrics.jsonl.</summary>
    private RunEventFile? _board;

    private RunEventFile OpenEventFile(RunDirectory run) => _board = RunEventFile.Open(run, RunFiles);

    /// <summary>metrics.jsonl and tb/ are best effort: a full disk or read-only folder is logged, counted, never fatal.</summary>
    private RunFileHealth RunFiles => _runFiles ??= WatchRunFiles(new RunFileHealth());

    private RunFileHealth? _runFiles;

    private RunFileHealth WatchRunFiles(RunFileHealth health)
    {
        health.Failing += (path, e) => _logger.LogError(
            "Cannot write {Path} ({Reason}); training goes on, its lines are dropped until a write succeeds (distsac_run_file_write_failures_total)",
            path, e.Message);
        health.Recovered += path => _logger.LogInformation("{Path} is writable again", path);
        return health;
    }

    private async Task LogProgressAsync(ShardedReplay replay, SacLearner learner, LoopState loop, MetricsWriter metrics,
        EvaluationResult? evaluation, CancellationToken ct)
    {
        bool workersRead = loop.ShouldReadWorkers();
        if (workersRead)
        {
            try
            {
                loop.Workers.Observe(await replay.ReadWorkerTransitionsAsync(ct), loop.Clock.Elapsed);
            }
            catch (Exception ex) when (ex is ReplayUnavailableException or OperationCanceledException)
            {
                // Progress is still worth a line without the worker count; the sampling path reports the outage.
            }
        }
        var now = loop.Clock.Elapsed;
        var seconds = Math.Max((now - loop.LastLogTime).TotalSeconds, 1e-9);
        var envSteps = loop.Stats?.TotalInserted ?? 0;
        var stats = learner.ReadStats();
        var shardFill = new long[loop.Stats?.Shards.Count ?? 0];
        for (int i = 0; i < shardFill.Length; i++) shardFill[i] = loop.Stats!.Shards[i].Fill;
        var record = new LearnerMetrics(
            learner.UpdateCount, envSteps, now.TotalSeconds,
            (learner.UpdateCount - loop.LastLogUpdates) / seconds, (envSteps - loop.LastLogSteps) / seconds,
            loop.Stats?.Fill ?? 0, shardFill,
            loop.StalenessCount > 0 ? loop.StalenessSum / loop.StalenessCount : 0, loop.StalenessMax, _versionOffset + learner.UpdateCount - learner.UpdateCount % _options.PublishEvery,
            loop.Workers.Active, loop.Workers.Seen,
            loop.RateLimiterWait.TotalSeconds, loop.LastWaitReason, loop.SampleWait.TotalSeconds,
            evaluation?.MeanReturn, evaluation?.StdReturn,
            stats.Alpha, stats.CriticLoss, stats.ActorLoss, stats.AlphaLoss, stats.MeanQ, stats.Entropy, loop.UpdateTime.TotalSeconds);
        metrics.Write(record);
        _board?.WriteScalars(envSteps, LearnerScalars.From(record, workersRead ? loop.Workers.Transitions : null));
        Exporter.Observe(record, loop.RateLimiterWait.TotalSeconds);
        Exporter.RunFileWritesFailed(RunFiles.FailedWrites);
        _onMetrics?.Invoke(record);
        loop.LastLogTime = now;
        loop.LastLogUpdates = learner.UpdateCount;
        loop.LastLogSteps = envSteps;
        loop.StalenessSum = 0;
        loop.StalenessCount = 0;
        loop.StalenessMax = 0;
        loop.LastWaitReason = null;
    }
}
