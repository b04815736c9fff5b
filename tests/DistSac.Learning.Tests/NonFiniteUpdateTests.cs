using DistSac.Learning.Networks;
using static TorchSharp.torch;

namespace DistSac.Learning.Tests;

/// <summary>One batch with a NaN or an infinity must not reach the weights: the step is skipped and counted.</summary>
public sealed class NonFiniteUpdateTests
{
    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void FlatAdamStep_WithANonFiniteGradient_ChangesNothingAndReturnsFalse(float bad)
    {
        using var block = new ParameterBlock();
        block.Add("w", 40);
        block.Build(CPU, requiresGrad: true);
        using var adam = new FlatAdam(block, 0.1);
        block.Gradients.fill_(1.0f);
        Assert.True(adam.Step());
        var before = block.Values.data<float>().ToArray();
        var grads = block.Gradients.data<float>();
        grads[37] = bad;

        Assert.False(adam.Step());

        Assert.Equal(before, block.Values.data<float>().ToArray());
        Assert.Equal(1, adam.StepCount);
    }

    [Theory]
    [InlineData(0, float.NaN)]
    [InlineData(1, float.PositiveInfinity)]
    [InlineData(2, float.NegativeInfinity)]
    [InlineData(3, float.NaN)]
    public void ParametersAreFinite_FindsOneBadValueInAnyNetwork(int network, float bad)
    {
        using var learner = new SacLearner(3, 1, [-2f], [2f], new SacOptions { HiddenSizes = [16, 16], BatchSize = 8 }, CPU, seed: 3);
        Assert.True(learner.ParametersAreFinite());
        var values = network switch
        {
            0 => learner.Actor.Parameters.Values,
            1 => learner.Critic.Parameters.Values,
            2 => learner.CriticTarget.Parameters.Values,
            _ => learner.LogAlpha,
        };
        using (no_grad()) values.data<float>()[values.NumberOfElements - 1] = bad;

        Assert.False(learner.ParametersAreFinite());
    }

    [Fact]
    public void SacUpdate_OnABatchWithANaNReward_IsSkippedAndLeavesEveryParameterFinite()
    {
        using var learner = new SacLearner(3, 1, [-2f], [2f], new SacOptions { HiddenSizes = [16, 16], BatchSize = 8 }, CPU, seed: 3, concurrentStreams: true);
        using var o = randn(8, 3);
        using var a = rand(8, 1);
        using var o2 = randn(8, 3);
        using var d = zeros(8, 1);
        using var good = randn(8, 1);
        learner.Update(o, a, good, o2, d);
        Assert.True(learner.LastUpdateApplied);
        var criticBefore = learner.Critic.Parameters.Values.data<float>().ToArray();
        using var poisoned = tensor(new[] { -1f, -2f, -0.5f, -3f, float.NaN, -1f, -2f, -0.1f }).reshape(8, 1);

        learner.Update(o, a, poisoned, o2, d);

        Assert.False(learner.LastUpdateApplied);
        Assert.Equal(1, learner.SkippedUpdates);
        Assert.Equal(criticBefore, learner.Critic.Parameters.Values.data<float>().ToArray());
        Assert.True(learner.ParametersAreFinite());
        learner.Update(o, a, good, o2, d);
        Assert.True(learner.LastUpdateApplied);
    }
}
