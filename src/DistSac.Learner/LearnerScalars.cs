using System.Globalization;
using DistSac.Learning.Training;
using DistSac.TensorBoard;

namespace DistSac.Learner;

/// <summary>
/// The scalars of one distributed-learner metrics line: the `train` tags (<see cref="ScalarTags"/>) plus replay,
/// staleness, rate-limiter and worker series. Episode returns are not known here (workers do not report them).
/// </summary>
public static class LearnerScalars
{
    public const string ReplayFill = "replay/fill";
    public const string ShardFillPrefix = "replay/fill_shard_";
    public const string StalenessMean = "replay/staleness_mean";
    public const string StalenessMax = "replay/staleness_max";
    public const string RateLimiterWait = "replay/rate_limiter_wait_s";
    public const string SampleWait = "replay/sample_wait_s";
    public const string WeightsVersion = "train/weights_version";
    public const string WorkersActive = "workers/active";
    public const string WorkersSeen = "workers/seen";
    public const string WorkerEnvStepsPrefix = "workers/env_steps/";

    /// <param name="workerTransitions">Transitions stored per worker id, when read at this line (null otherwise).</param>
    public static ScalarSet From(LearnerMetrics m, IEnumerable<KeyValuePair<string, long>>? workerTransitions)
    {
        ArgumentNullException.ThrowIfNull(m);
        var set = new ScalarSet()
            .Add(ScalarTags.EvalReturnMean, m.EvalReturn).Add(ScalarTags.EvalReturnStd, m.EvalReturnStd)
            .Add(ScalarTags.CriticLoss, m.CriticLoss).Add(ScalarTags.ActorLoss, m.ActorLoss).Add(ScalarTags.AlphaLoss, m.AlphaLoss)
            .Add(ScalarTags.Alpha, m.Alpha).Add(ScalarTags.Entropy, m.Entropy).Add(ScalarTags.MeanQ, m.MeanQ)
            .Add(ScalarTags.Updates, m.Updates).Add(WeightsVersion, m.WeightsVersion)
            .Add(ScalarTags.UpdatesPerSecond, m.UpdatesPerS).Add(ScalarTags.EnvStepsPerSecond, m.EnvStepsPerS)
            .Add(ReplayFill, m.ReplayFill)
            .Add(StalenessMean, m.StalenessMean).Add(StalenessMax, m.StalenessMax)
            .Add(RateLimiterWait, m.RateLimiterWaitS).Add(SampleWait, m.SampleWaitS)
            .Add(WorkersActive, m.WorkersActive).Add(WorkersSeen, m.WorkersSeen);
        for (int i = 0; i < m.ShardFill.Length; i++) set.Add(ShardFillPrefix + i.ToString(CultureInfo.InvariantCulture), m.ShardFill[i]);
        if (workerTransitions is not null)
            foreach (var (worker, transitions) in workerTransitions) set.Add(WorkerEnvStepsPrefix + worker, transitions);
        return set;
    }
}
