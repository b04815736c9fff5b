using DistSac.Settings;
using Microsoft.Extensions.Options;
using DistSac.Observability;
using System.ComponentModel.DataAnnotations;

namespace DistSac.Learner;

/// <summary>Settings of the distributed learner (configuration section "Learner").</summary>
public sealed record LearnerOptions
{
    [Required] public string Env { get; init; } = "Pendulum-v1";
    public long Seed { get; init; }
    /// <summary>Training ends once this many env steps (transitions) have been stored run-wide and consumed.</summary>
    [Range(1, long.MaxValue)] public long Steps { get; init; } = 20_000;
    /// <summary>Run-wide transitions collected with uniform-random actions before the first update.</summary>
    [Range(0, long.MaxValue)] public long WarmupTransitions { get; init; } = 1_000;
    /// <summary>
    /// Rate limiter: gradient updates per stored transition (1 = one update per env step); 0 disables it. The learner owns
    /// the contract: it writes this, the tolerance and its threshold into the run metadata, and gateways hold pushes by them.
    /// </summary>
    [Range(0.0, 1000.0)] public double UpdatesPerTransition { get; init; } = 1.0;
    /// <summary>How far (in updates) either side may run ahead of the ratio before it waits.</summary>
    [Range(0.0, 1e9)] public double RateLimitTolerance { get; init; } = 256;
    /// <summary>Publish actor weights every this many updates; bounds policy staleness seen by workers.</summary>
    [Range(1, 1_000_000)] public int PublishEvery { get; init; } = 25;
    [Range(1, long.MaxValue)] public long EvalInterval { get; init; } = 2_000;
    [Range(1, 1_000)] public int EvalEpisodes { get; init; } = 10;
    [Range(1, long.MaxValue)] public long LogInterval { get; init; } = 500;
    /// <summary>Write learner.ckpt every this many updates so a restarted learner resumes (0 = only at the end).</summary>
    [Range(0, long.MaxValue)] public long CheckpointInterval { get; init; } = 5_000;
    [Range(1, 64)] public int PrefetchDepth { get; init; } = 4;
    /// <summary>Concurrent sampling loops; more hide Redis round trips (a GPU learner wants thousands of batches/s).</summary>
    [Range(1, 64)] public int PrefetchParallelism { get; init; } = 2;
    /// <summary>
    /// Where batches are drawn from: "mirror" (a copy of every shard's ring in the learner's memory, refilled from the
    /// insert cursor; no Redis round trip per batch) or "redis" (one HMGET per shard per batch, for replays larger than
    /// the learner's RAM). See docs/replay-layout.md.
    /// </summary>
    public string Sampling { get; init; } = "mirror";
    public string RunsRoot { get; init; } = "runs";
    public string? RunId { get; init; }
    public string Device { get; init; } = "auto";
    [Range(0, 1024)] public int Threads { get; init; }
    public double? StopAtEvalReturn { get; init; }
    /// <summary>How long the learner waits out an unreachable replay shard (restart, reschedule) before it gives up.</summary>
    [Range(0, 86_400)] public int ReplayOutageTimeoutSeconds { get; init; } = 900;
    /// <summary>
    /// The learner stops (exit 2, last good checkpoint kept) after this many updates in a row were skipped because of
    /// non-finite gradients or all-bad batches: the data or the hyperparameters are broken, and waiting will not help.
    /// </summary>
    [Range(1, 1_000_000)] public int MaxConsecutiveBadUpdates { get; init; } = 100;
    /// <summary>HTTP address of the probe endpoint (/healthz, /readyz, /metrics), e.g. "http://0.0.0.0:9091"; empty turns it off.</summary>
    public string HttpListen { get; init; } = "";

    public void Validate() => SettingsValidation.ThrowIfInvalid(this, "Learner", Rules.Instance);

    private sealed class Rules : IValidateOptions<LearnerOptions>
    {
        public static readonly Rules Instance = new();

        public ValidateOptionsResult Validate(string? name, LearnerOptions options)
        {
            var failures = new SettingsValidation.Failures(name!);
            failures.Require(options.Device is "auto" or "cpu" or "cuda", nameof(Device), options.Device, "use auto, cpu or cuda");
            failures.Require(options.Sampling is "mirror" or "redis", nameof(Sampling), options.Sampling,
                "use mirror (a copy of the replay in the learner's memory) or redis (sample from Redis per batch)");
            if (!string.IsNullOrEmpty(options.HttpListen))
                failures.Check(() => ProbeListener.Prefix(options.HttpListen), nameof(HttpListen), options.HttpListen);
            return failures.Result;
        }
    }
}
