using DistSac.Settings;
using Microsoft.Extensions.Options;
using System.ComponentModel.DataAnnotations;

namespace DistSac.Learning;

/// <summary>
/// SAC hyperparameters. Defaults are the paper's / Stable-Baselines3's (Haarnoja et al. 2018, "SAC Algorithms and
/// Applications", table 1): gamma 0.99, tau 0.005, Adam 3e-4 for actor, critics and temperature, batch 256,
/// 256x256 ReLU networks, target entropy -dim(A), one gradient step per environment step.
/// </summary>
public sealed record SacOptions
{
    [Range(0.0, 1.0)] public double Gamma { get; init; } = 0.99;
    [Range(0.0, 1.0)] public double Tau { get; init; } = 0.005;
    [Range(1e-8, 1.0)] public double ActorLearningRate { get; init; } = 3e-4;
    [Range(1e-8, 1.0)] public double CriticLearningRate { get; init; } = 3e-4;
    [Range(1e-8, 1.0)] public double AlphaLearningRate { get; init; } = 3e-4;
    [Range(1, 65536)] public int BatchSize { get; init; } = 256;
    public int[] HiddenSizes { get; init; } = [256, 256];
    /// <summary>Initial temperature; alpha = exp(log_alpha) is learned unless <see cref="LearnAlpha"/> is false.</summary>
    [Range(1e-8, 1e3)] public double InitialAlpha { get; init; } = 0.2;
    public bool LearnAlpha { get; init; } = true;
    /// <summary>Null means -dim(A), the paper's heuristic.</summary>
    public double? TargetEntropy { get; init; }
    /// <summary>Critic targets are updated every this many gradient steps (SB3's target_update_interval).</summary>
    [Range(1, 1_000_000)] public int TargetUpdateInterval { get; init; } = 1;

    public double ResolveTargetEntropy(int actionSize) => TargetEntropy ?? -actionSize;

    /// <summary>Throws with the offending key's name when a value is out of range.</summary>
    public void Validate() => SettingsValidation.ThrowIfInvalid(this, "Sac", Rules.Instance);

    private sealed class Rules : IValidateOptions<SacOptions>
    {
        public static readonly Rules Instance = new();

        public ValidateOptionsResult Validate(string? name, SacOptions options)
        {
            var failures = new SettingsValidation.Failures(name!);
            failures.Require(options.HiddenSizes.Length > 0, nameof(HiddenSizes), "[]", "list at least one layer size, e.g. [256, 256]");
            foreach (var h in options.HiddenSizes)
                failures.Require(h is >= 1 and <= 65536, nameof(HiddenSizes), h, "each size must be in [1, 65536]");
            return failures.Result;
        }
    }
}
