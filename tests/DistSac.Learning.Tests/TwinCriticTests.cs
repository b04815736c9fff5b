using DistSac.Learning.Networks;
using DistSac.Learning.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;

namespace DistSac.Learning.Tests;

public sealed class TwinCriticTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_ComputesBothCriticsAsIndependentMlpsOverObservationAndAction(bool detachWeights)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(21);
        using var critic = new TwinCritic(3, 2, [16, 8], CPU);
        using var batch = Learners.Batch(21, 11);

        var q = critic.Forward(batch.Observations, batch.Actions, detachWeights);

        Assert.Equal(new long[] { 2, 11, 1 }, q.shape);
        var values = Host.Doubles(q);
        var expected = ReferenceSac.CriticForward(critic, Array.ConvertAll(batch.ObservationValues, v => (double)v), Array.ConvertAll(batch.ActionValues, v => (double)v), 11);
        for (int k = 0; k < 2; k++)
            for (int s = 0; s < 11; s++)
                Assert.Equal(expected[k][s], values[k * 11 + s], 1e-5);
        Assert.True(Math.Abs(expected[0][0] - expected[1][0]) > 1e-3, "the two critics were initialised identically");
    }
}
