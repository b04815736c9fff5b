using DistSac.Learning.Tests.Reference;

namespace DistSac.Learning.Tests;

public sealed class TemperatureTests
{
    private const double LearningRate = 3e-4;

    private static double LogAlpha(SacLearner learner) => Host.Doubles(learner.LogAlpha)[0];

    [Fact]
    public void NewLearner_StartsAtAlphaPointTwoWithTargetEntropyMinusActionDimensions()
    {
        using var learner = Learners.New(Learners.Options());

        Assert.Equal(Math.Log(0.2), LogAlpha(learner), 1e-6);
        Assert.Equal(-Learners.ActionSize, learner.TargetEntropy);
        Assert.Equal(0.2, learner.ReadStats().Alpha, 1e-6);
    }

    // J(alpha) = -E[log_alpha (log pi + H_target)]: its gradient -(log pi + H_target) is positive when the policy's
    // entropy -log pi exceeds the target, so a descent step lowers alpha; Adam's first step has size lr exactly.
    [Fact]
    public void Update_WithEntropyAboveTarget_DecreasesAlphaByOneLearningRateInLogSpace()
    {
        using var learner = Learners.New(Learners.Options() with { TargetEntropy = -100, AlphaLearningRate = LearningRate });
        using var batch = Learners.Batch(7);
        var before = LogAlpha(learner);

        batch.UpdateOnce(learner);

        Assert.Equal(before - LearningRate, LogAlpha(learner), 1e-6);
    }

    [Fact]
    public void Update_WithEntropyBelowTarget_IncreasesAlphaByOneLearningRateInLogSpace()
    {
        using var learner = Learners.New(Learners.Options() with { TargetEntropy = 100, AlphaLearningRate = LearningRate });
        using var batch = Learners.Batch(7);
        var before = LogAlpha(learner);

        batch.UpdateOnce(learner);

        Assert.Equal(before + LearningRate, LogAlpha(learner), 1e-6);
    }

    [Fact]
    public void Update_WithLearnAlphaOff_KeepsAlphaFixed()
    {
        using var learner = Learners.New(Learners.Options() with { LearnAlpha = false, InitialAlpha = 0.05, TargetEntropy = 100 });
        using var batch = Learners.Batch(8);

        for (int i = 0; i < 3; i++) batch.UpdateOnce(learner);

        Assert.Equal(Math.Log(0.05), LogAlpha(learner), 1e-6);
    }

    [Fact]
    public void ReadStats_ReportsTheAlphaUsedAndThePolicyEntropyOfTheUpdate()
    {
        using var learner = Learners.New(Learners.Options() with { InitialAlpha = 0.5 });
        using var batch = Learners.Batch(9);

        batch.UpdateOnce(learner);
        var stats = learner.ReadStats();

        // The alpha loss is -log_alpha (mean log pi + H_target) = log_alpha (Entropy - H_target) with the pre-step log_alpha.
        Assert.Equal(0.5, stats.Alpha, 1e-6);
        Assert.Equal(Math.Log(0.5) * (stats.Entropy - learner.TargetEntropy), stats.AlphaLoss, 1e-5);
        Assert.All(new[] { stats.CriticLoss, stats.ActorLoss, stats.MeanQ, stats.Entropy }, v => Assert.True(double.IsFinite(v)));
    }
}
