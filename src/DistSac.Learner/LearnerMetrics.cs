namespace DistSac.Learner;

/// <summary>One line of the distributed learner's metrics.jsonl.</summary>
public sealed record LearnerMetrics(
    long Updates, long EnvSteps, double TimeS, double UpdatesPerS, double EnvStepsPerS,
    long ReplayFill, long[] ShardFill, double StalenessMean, long StalenessMax, long WeightsVersion,
    int WorkersActive, int WorkersSeen,
    double RateLimiterWaitS, string? RateLimiterReason, double SampleWaitS,
    double? EvalReturn, double? EvalReturnStd,
    double Alpha, double CriticLoss, double ActorLoss, double AlphaLoss, double MeanQ, double Entropy);
