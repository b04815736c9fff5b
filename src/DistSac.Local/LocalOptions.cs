using System.ComponentModel.DataAnnotations;

namespace DistSac.Local;

/// <summary>Settings of `distsac local` (configuration section "Local"): the whole system on one machine.</summary>
public sealed record LocalOptions
{
    [Range(1, 256)] public int Workers { get; init; } = 2;
    [Range(1, 64)] public int Shards { get; init; } = 1;
    [Required] public string Env { get; init; } = "Pendulum-v1";
    [Range(1, long.MaxValue)] public long Steps { get; init; } = 20_000;
    public long Seed { get; init; }
    [Range(1, 1024)] public int EnvsPerWorker { get; init; } = 1;
    [Range(0, long.MaxValue)] public long WarmupTransitions { get; init; } = 1_000;
    [Range(0.0, 1000.0)] public double UpdatesPerTransition { get; init; } = 1.0;
    [Range(1, long.MaxValue)] public long CapacityPerShard { get; init; } = 1_000_000;
    [Range(1, long.MaxValue)] public long EvalInterval { get; init; } = 2_000;
    public double? StopAtEvalReturn { get; init; }
    public string RunsRoot { get; init; } = "runs";
    public string? RunId { get; init; }
    /// <summary>Torch threads of the learner (0 = all cores).</summary>
    [Range(0, 1024)] public int LearnerThreads { get; init; }
    /// <summary>
    /// Added to the nice value of the workers and the gateway (0-19; 0 = the learner's priority), so that on a machine
    /// with fewer cores than busy threads the learner's two op streams are preempted less. Default 0: measured on a
    /// loaded 2-core machine, 10 did not raise the learner's rate and lengthened its rate-limiter wait (docs/benchmarks.md).
    /// Redis keeps the learner's priority at any value: the learner waits on its replies.
    /// </summary>
    [Range(0, 19)] public int ChildNice { get; init; }
    public string RedisServer { get; init; } = "redis-server";
    /// <summary>Keep Redis data on disk (appendonly) in the run directory instead of a temporary folder.</summary>
    public bool Persist { get; init; }

    public void Validate() => DistSac.Settings.SettingsValidation.ThrowIfInvalid(this, "Local");
}
