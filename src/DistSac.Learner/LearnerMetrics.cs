namespace DistSac.Learner;

/// <summary>One line of the distributed learner's metrics.jsonl.</summary>
/// <param name="UpdateTimeS">
/// Wall seconds spent inside gradient updates since the start, cumulative like <paramref name="RateLimiterWaitS"/> and
/// <paramref name="SampleWaitS"/>: what is left of <paramref name="TimeS"/> after the three is the loop's own overhead
/// (sampling copies, publishing, logging, evaluations, checkpoints).
/// </param>
public sealed record LearnerMetrics(
    long Updates, long EnvSteps, double TimeS, double UpdatesPerS, double EnvStepsPerS,
    long ReplayFill, long[] ShardFill, double StalenessMean, long StalenessMax, long WeightsVersion,
    int WorkersActive, int WorkersSeen,
    double RateLimiterWaitS, string? RateLimiterReason, double SampleWaitS,
    double? EvalReturn, double? EvalReturnStd,
    double Alpha, double CriticLoss, double ActorLoss, double AlphaLoss, double MeanQ, double Entropy, double UpdateTimeS = 0);
