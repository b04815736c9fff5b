namespace DistSac.Learner;

/// <summary>The learner stopped because its updates keep failing; the last good checkpoint is kept.</summary>
public sealed class LearnerDivergedException(string message) : InvalidOperationException(message);

/// <summary>
/// Counts updates in a row that could not be applied (non-finite gradients, a batch with no good record) and ends the
/// run after <c>limit</c> of them: one bad batch is skipped, a stream of them means the data or the settings are broken.
/// </summary>
public sealed class BadUpdateGuard(int limit)
{
    public int Consecutive { get; private set; }

    public void Record(bool applied, string reason)
    {
        if (applied)
        {
            Consecutive = 0;
            return;
        }
        if (++Consecutive >= limit)
            throw new LearnerDivergedException(
                $"{Consecutive} updates in a row could not be applied ({reason}); stopping with the last good checkpoint " +
                "(Learner:MaxConsecutiveBadUpdates). Check the replay for bad data and the learning rates.");
    }
}
