namespace DistSac.Bench;

/// <summary>`bench learner`'s figures as the distributed benchmarks compare against them.</summary>
public readonly record struct LearnerRate(double UpdatesPerS, int Threads, bool ConcurrentStreams, double Seconds);

/// <summary>
/// Runs `bench learner` on the CPU for <paramref name="duration"/> with <paramref name="threads"/> torch threads (0 = all
/// cores). Supplied by the caller that has TorchSharp (the CLI), so this project stays free of it.
/// </summary>
public delegate LearnerRate LearnerRateProbe(int threads, TimeSpan duration);
