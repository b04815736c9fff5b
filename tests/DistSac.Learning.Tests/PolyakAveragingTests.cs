using DistSac.Learning.Networks;
using DistSac.Learning.Tests.Reference;
using static TorchSharp.torch;

namespace DistSac.Learning.Tests;

public sealed class PolyakAveragingTests
{
    private const double Tau = 0.005;

    private static ParameterBlock NewBlock(int seed)
    {
        var block = new ParameterBlock();
        block.Add("weight", 5, 7);
        block.Add("bias", 7);
        block.Build(CPU, requiresGrad: false);
        using (no_grad())
        using (var values = tensor(Host.Uniform(new Random(seed), (int)block.Size, -3, 3)))
        {
            block.Values.copy_(values);
        }
        return block;
    }

    private static void AssertMovedByTau(double[] before, double[] source, double[] after)
    {
        for (int i = 0; i < after.Length; i++)
            Assert.Equal((1 - Tau) * before[i] + Tau * source[i], after[i], 1e-6);
    }

    [Fact]
    public void PolyakUpdateFrom_MovesEveryValueByExactlyTauTowardTheSource()
    {
        using var target = NewBlock(1);
        using var online = NewBlock(2);
        using var tau = tensor((float)Tau);
        var before = Host.Doubles(target.Values);
        var source = Host.Doubles(online.Values);

        target.PolyakUpdateFrom(online, tau);

        AssertMovedByTau(before, source, Host.Doubles(target.Values));
        Assert.Equal(source, Host.Doubles(online.Values));
    }

    [Fact]
    public void PolyakUpdateFrom_IsSeenThroughTheParameterViews()
    {
        using var target = NewBlock(3);
        using var online = NewBlock(4);
        using var tau = tensor((float)Tau);
        var before = Host.Doubles(target[1]);
        var source = Host.Doubles(online[1]);

        target.PolyakUpdateFrom(online, tau);

        AssertMovedByTau(before, source, Host.Doubles(target[1]));
    }

    [Fact]
    public void Update_MovesTheCriticTargetByExactlyTauTowardThePostUpdateCritic()
    {
        using var learner = Learners.New(Learners.Options() with { Tau = Tau });
        using var batch = Learners.Batch(5);
        for (int i = 0; i < 2; i++) batch.UpdateOnce(learner);
        var before = Host.Doubles(learner.CriticTarget.Parameters.Values);

        batch.UpdateOnce(learner);

        var critic = Host.Doubles(learner.Critic.Parameters.Values);
        var after = Host.Doubles(learner.CriticTarget.Parameters.Values);
        AssertMovedByTau(before, critic, after);
        Assert.True(Host.MaxAbsDifference(before, after) > 1e-7, "the target did not move");
    }

    [Fact]
    public void Update_WithTargetUpdateIntervalTwo_MovesTheTargetOnlyEverySecondStep()
    {
        using var learner = Learners.New(Learners.Options() with { Tau = Tau, TargetUpdateInterval = 2 });
        using var batch = Learners.Batch(6);
        var initial = Host.Doubles(learner.CriticTarget.Parameters.Values);

        batch.UpdateOnce(learner);
        var afterFirst = Host.Doubles(learner.CriticTarget.Parameters.Values);
        batch.UpdateOnce(learner);

        Assert.Equal(initial, afterFirst);
        AssertMovedByTau(afterFirst, Host.Doubles(learner.Critic.Parameters.Values), Host.Doubles(learner.CriticTarget.Parameters.Values));
    }

    [Fact]
    public void NewLearner_StartsWithTheTargetCriticEqualToTheCritic()
    {
        using var learner = Learners.New(Learners.Options());

        Assert.Equal(Host.Doubles(learner.Critic.Parameters.Values), Host.Doubles(learner.CriticTarget.Parameters.Values));
    }
}
