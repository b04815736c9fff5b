using DistSac.Settings;
using Microsoft.Extensions.Options;
using System.ComponentModel.DataAnnotations;

namespace DistSac.Learning.Training;

/// <summary>Settings of a single-process training run (configuration section "Train").</summary>
public sealed record TrainOptions
{
    [Required] public string Env { get; init; } = "Pendulum-v1";
    [Range(1, long.MaxValue)] public long Steps { get; init; } = 20_000;
    public long Seed { get; init; }
    /// <summary>Env steps with uniform-random actions before the first update (SB3's learning_starts).</summary>
    [Range(0, long.MaxValue)] public long LearningStarts { get; init; } = 100;
    [Range(1, 1_000)] public int UpdatesPerStep { get; init; } = 1;
    [Range(1, 100_000_000)] public int ReplayCapacity { get; init; } = 1_000_000;
    [Range(1, long.MaxValue)] public long EvalInterval { get; init; } = 2_000;
    [Range(1, 1_000)] public int EvalEpisodes { get; init; } = 10;
    [Range(1, long.MaxValue)] public long LogInterval { get; init; } = 500;
    /// <summary>Where run directories are created: &lt;RunsRoot&gt;/&lt;RunId&gt;/.</summary>
    public string RunsRoot { get; init; } = "runs";
    /// <summary>Null: a new id from the env, seed and time.</summary>
    public string? RunId { get; init; }
    /// <summary>auto (CUDA when available), cpu or cuda.</summary>
    public string Device { get; init; } = "auto";
    /// <summary>Torch intra-op threads; 0 means the machine's core count.</summary>
    [Range(0, 1024)] public int Threads { get; init; }
    /// <summary>Stop early once a deterministic evaluation reaches this mean return (null: never).</summary>
    public double? StopAtEvalReturn { get; init; }
    /// <summary>white (independent N(0,1) eps, SAC as published) or ou (temporally correlated Ornstein-Uhlenbeck eps).</summary>
    public string ExplorationNoise { get; init; } = DistSac.Policy.ExplorationNoiseKind.White;
    /// <summary>Correlation time of ou noise in env steps (rho = exp(-1 / this)).</summary>
    [Range(1e-3, 1e6)] public double NoiseCorrelationSteps { get; init; } = 15;

    public void Validate() => SettingsValidation.ThrowIfInvalid(this, "Train", Rules.Instance);

    private sealed class Rules : IValidateOptions<TrainOptions>
    {
        public static readonly Rules Instance = new();

        public ValidateOptionsResult Validate(string? name, TrainOptions options)
        {
            var failures = new SettingsValidation.Failures(name!);
            failures.Require(options.Device is "auto" or "cpu" or "cuda", nameof(Device), options.Device, "use auto, cpu or cuda");
            failures.Check(() => DistSac.Policy.ExplorationNoiseKind.Validate(options.ExplorationNoise, "Train:ExplorationNoise"), nameof(ExplorationNoise), options.ExplorationNoise);
            return failures.Result;
        }
    }
}
