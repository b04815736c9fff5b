using DistSac.Learning;
using DistSac.Learning.Training;
using Microsoft.Extensions.Logging;

namespace DistSac.Learner;

/// <summary>
/// Writes the distributed learner's checkpoints. A write that fails (read-only or full disk, a vanished folder) is
/// logged as an error and counted (distsac_checkpoint_write_failures_total); training goes on and the next checkpoint
/// interval tries again. The previous good generation stays on disk meanwhile.
/// </summary>
internal sealed class LearnerCheckpointSaver(RunDirectory run, string envId, LearnerExporter exporter, ILogger logger)
{
    private long _failures;

    /// <summary>Published weights version = offset + update count; stored in the checkpoint so versions continue.</summary>
    public long WeightsVersionOffset { get; set; }

    /// <summary>Restores the newest good checkpoint into <paramref name="learner"/>; null when the run has none yet.</summary>
    public LearnerCheckpointState? Load(SacLearner learner)
    {
        var state = LearnerCheckpoint.Load(run, learner, message => logger.LogWarning("{Message}", message));
        if (state is not null)
        {
            WeightsVersionOffset = state.WeightsVersionOffset;
            logger.LogInformation("Resumed from {Checkpoint} at update {Updates}", state.Path, learner.UpdateCount);
        }
        return state;
    }

    /// <summary>True when learner.ckpt and actor.dsac were written; false (logged, counted) when the disk refused.</summary>
    public bool TrySave(SacLearner learner, long envSteps)
    {
        try
        {
            LearnerCheckpoint.Save(run, learner, envId, envSteps, WeightsVersionOffset);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _failures++;
            exporter.CheckpointWriteFailed();
            logger.LogError("Could not write the checkpoint at update {Updates} to {Directory} ({Failures} failed so far): {Reason}. " +
                            "Training goes on; the next checkpoint interval tries again. Free space or fix the folder's permissions.",
                learner.UpdateCount, run.CheckpointDirectory, _failures, e.Message);
            return false;
        }
        exporter.CheckpointWritten(learner.UpdateCount);
        if (_failures > 0)
        {
            logger.LogInformation("Checkpoint written again at update {Updates} after {Failures} failed write(s)", learner.UpdateCount, _failures);
            _failures = 0;
        }
        return true;
    }
}
