using DistSac.TensorBoard;

namespace DistSac.Learning.Training;

/// <summary>
/// The TensorBoard tags shared by `train` and the distributed learner, grouped the way TensorBoard groups by the
/// part before the slash (SB3's eval/, rollout/, train/, time/ plus replay/ and workers/ for the distributed run).
/// docs/observability.md explains each one.
/// </summary>
public static class ScalarTags
{
    public const string EvalReturnMean = "eval/return_mean";
    public const string EvalReturnStd = "eval/return_std";
    public const string EpisodeReturn = "rollout/episode_return";
    public const string Episodes = "rollout/episodes";
    public const string CriticLoss = "train/critic_loss";
    public const string ActorLoss = "train/actor_loss";
    public const string AlphaLoss = "train/alpha_loss";
    public const string Alpha = "train/alpha";
    public const string Entropy = "train/entropy";
    public const string MeanQ = "train/mean_q";
    public const string Updates = "train/updates";
    public const string UpdatesPerSecond = "time/updates_per_s";
    public const string EnvStepsPerSecond = "time/env_steps_per_s";

    /// <summary>The scalars of one `train` metrics line; its x is <see cref="TrainMetrics.Step"/>.</summary>
    public static ScalarSet From(TrainMetrics m)
    {
        ArgumentNullException.ThrowIfNull(m);
        return new ScalarSet()
            .Add(EvalReturnMean, m.EvalReturn).Add(EvalReturnStd, m.EvalReturnStd)
            .Add(EpisodeReturn, m.EpisodeReturn).Add(Episodes, m.Episodes)
            .Add(CriticLoss, m.CriticLoss).Add(ActorLoss, m.ActorLoss).Add(AlphaLoss, m.AlphaLoss)
            .Add(Alpha, m.Alpha).Add(Entropy, m.Entropy).Add(MeanQ, m.MeanQ).Add(Updates, m.Updates)
            .Add(UpdatesPerSecond, m.UpdatesPerS).Add(EnvStepsPerSecond, m.StepsPerS);
    }
}
