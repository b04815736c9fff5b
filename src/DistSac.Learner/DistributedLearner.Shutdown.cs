using DistSac.Learning;
using DistSac.Learning.Training;
using DistSac.Replay;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace DistSac.Learner;

public sealed partial class DistributedLearner
{
    /// <summary>
    /// Longest the end of a stopped run waits on Redis (last metrics line, last weights). With the update in flight
    /// (milliseconds) and the checkpoint (local disk) this keeps a SIGTERM stop well inside the 60 s
    /// terminationGracePeriodSeconds of deploy/k8s/base/learner.yaml.
    /// </summary>
    private static readonly TimeSpan StopReplayTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Waits for the loop's background counter read and weights send. An unreachable replay or a cancellation there is
    /// not an error here: the read only refreshed counters, and a cut-off weights send is superseded by the last
    /// publish below; a failed send of a finished run still ends it as it would have ended the loop. On a stop any
    /// failed send is logged and the checkpoint is still written: the last publish below reports a failure that lasts.
    /// </summary>
    private async Task DrainBackgroundWorkAsync(bool stopped)
    {
        try
        {
            await _statsRead.DrainAsync();
        }
        catch (Exception e) when (e is ReplayUnavailableException or OperationCanceledException)
        {
            // Only the final line's counters came from it; they stay as last read.
        }
        try
        {
            if (_publisher is not null) await _publisher.WaitAsync();
        }
        catch (Exception e) when (stopped && e is ReplayUnavailableException or OperationCanceledException)
        {
            _logger.LogInformation("A weights publish was cut off by the stop ({Reason}); the last weights are published below", e.Message);
        }
        catch (Exception e) when (stopped)
        {
            _logger.LogWarning("A weights publish failed before the stop ({Reason}); the checkpoint is written and the last weights are published below", e.Message);
        }
    }

    /// <summary>
    /// Owner of the update loop's background work (the weights send and the counter read in flight): its token is the
    /// run's, linked, so a stop cancels that work; its disposal runs on every way out of the run, before the replay
    /// connection, the mirror and the networks are disposed. After a finish or a stop <see cref="FinishAsync"/> has
    /// already waited for the work and nothing is in flight. After an exception the work gets
    /// <see cref="StopReplayTimeout"/> to end (a send in flight may still store good weights), is then cancelled and
    /// waited for once more; its failure is logged, and the exception is the one reported (<see cref="InFlightWork"/>).
    /// </summary>
    private sealed class BackgroundWork(DistributedLearner owner, CancellationToken ct) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);

        public CancellationToken Token => _cancel.Token;

        public async ValueTask DisposeAsync()
        {
            var work = owner.InFlightBackgroundWork();
            // Still running past the bounds: the token stays usable (not disposed) for whatever still holds it.
            if (work.Count > 0 && !await InFlightWork.SettleAsync(work, _cancel, StopReplayTimeout, owner._logger)) return;
            _cancel.Dispose();
        }
    }

    /// <summary>The weights send and the counter read not yet awaited by anyone (a send whose failure is not taken yet included).</summary>
    private List<(string What, Task Task)> InFlightBackgroundWork()
    {
        var work = new List<(string What, Task Task)>(2);
        if (_publisher is { } publisher && publisher.WaitAsync() is { IsCompletedSuccessfully: false } send)
            work.Add(($"weights send of version {publisher.LastVersion}", send));
        if (_statsRead.InFlight) work.Add(("read of the shards' counters", _statsRead.DrainAsync()));
        return work;
    }

    private long WeightsVersion(SacLearner learner) => _versionOffset + learner.UpdateCount;

    /// <summary>The run directory with config.json; an unwritable runs root is a clear start-up error (exit 2), not a crash.</summary>
    private RunDirectory CreateRunDirectory(object config)
    {
        try
        {
            var run = RunDirectory.Create(_options.RunsRoot, _options.RunId ?? _replayOptions.RunId);
            run.WriteConfig(config);
            return run;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"Cannot write the run directory under Learner:RunsRoot = '{_options.RunsRoot}': {e.Message}. Point it at a writable folder with free space.", e);
        }
    }

    /// <summary>
    /// Ends a run: on a normal finish a final evaluation, on a stop none (an evaluation can take longer than the grace
    /// period); then the metrics line, the checkpoint and the last weights. A failed checkpoint write is reported in
    /// the result, not thrown, so the weights still go out.
    /// </summary>
    private async Task<LearnerResult> FinishAsync(ShardedReplay replay, SacLearner learner, LearnerCheckpointSaver checkpoints,
        LoopState loop, MetricsWriter metrics, RunDirectory run, Device device, bool stopped)
    {
        await DrainBackgroundWorkAsync(stopped);
        EvaluationResult? final = null;
        if (stopped)
        {
            _logger.LogInformation("Stop requested at update {Updates}: writing the checkpoint, skipping the final evaluation", learner.UpdateCount);
        }
        else
        {
            final = TorchPolicyEvaluator.Evaluate(learner.Actor, _options.Env, _options.EvalEpisodes, TorchPolicyEvaluator.EvaluationSeed(_options.Seed), device);
            loop.LastEvaluation = final;
        }
        var envSteps = loop.Stats?.TotalInserted ?? 0;
        using var bounded = new CancellationTokenSource(StopReplayTimeout);
        await LogProgressAsync(replay, learner, loop, metrics, final, stopped ? bounded.Token : CancellationToken.None);
        var saved = checkpoints.TrySave(learner, envSteps);
        try
        {
            await PublishWeightsAsync(replay, learner, stopped ? bounded.Token : CancellationToken.None, finished: !stopped);
        }
        catch (Exception e) when (stopped && e is ReplayUnavailableException or OperationCanceledException)
        {
            _logger.LogWarning("Could not publish the last weights while stopping ({Reason}); the checkpoint holds them", e.Message);
        }
        return new LearnerResult(run.Path, learner.UpdateCount, envSteps, loop.Clock.Elapsed.TotalSeconds, final, loop.FirstStepReaching, stopped, saved);
    }
}
