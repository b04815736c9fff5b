using DistSac.Learning.Networks;
using DistSac.Learning.Tests.Reference;
using DistSac.Learning.Training;
using DistSac.Policy;
using TorchSharp;
using static TorchSharp.torch;

namespace DistSac.Learning.Tests;

public sealed class ActorExportTests
{
    private const int ObservationSize = 3;
    private const int ActionSize = 3;
    private const double Tolerance = 1e-5;

    private static SquashedGaussianActor NewActor()
    {
        torch.manual_seed(70);
        var actor = new SquashedGaussianActor(ObservationSize, ActionSize, [64, 64], [-2f, 0f, -0.5f], [2f, 4f, 3f], CPU);
        int last = actor.LayerCount - 1;
        using (no_grad())
        using (var shift = tensor(new float[] { 0, 0, 0, 10, -40, 0 }))
        {
            // Push the first log_std above 2 and the second below -20 for every state, so both sides must clamp.
            actor.Bias(last).add_(shift);
        }
        return actor;
    }

    private static void AssertClose(float[] expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance, $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void A_host_copy_refills_the_same_arrays_with_the_actors_current_parameters()
    {
        using var scope = NewDisposeScope();
        using var actor = NewActor();
        var copy = new ActorHostCopy(actor);
        copy.CopyFrom(actor);
        var first = copy.ToWeights(1);
        for (int l = 0; l < actor.LayerCount; l++)
        {
            AssertClose(Host.Floats(actor.Weight(l)), first.Layers[l].Weight);
            AssertClose(Host.Floats(actor.Bias(l)), first.Layers[l].Bias);
        }

        using (no_grad()) actor.Weight(1).add_(0.5f);
        copy.CopyFrom(actor);
        var second = copy.ToWeights(2);

        Assert.Same(first.Layers[1].Weight, second.Layers[1].Weight); // no new (large-object heap) array per publish
        AssertClose(Host.Floats(actor.Weight(1)), second.Layers[1].Weight);
        Assert.Equal(ActorExport.ToActorWeights(actor, 2).ToBytes(), second.ToBytes());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    public void PureCSharpActor_MatchesTheTorchActorsMeanClampedLogStdAndDeterministicAction(int batch)
    {
        using var scope = NewDisposeScope();
        using var actor = NewActor();
        var network = new ActorNetwork(ActorExport.ToActorWeights(actor, 17), batch);
        var observations = Host.Uniform(new Random(71 + batch), batch * ObservationSize, -3, 3);
        var input = Host.Matrix(observations, batch, ObservationSize);
        var mean = new float[batch * ActionSize];
        var logStd = new float[batch * ActionSize];
        var action = new float[batch * ActionSize];

        network.Forward(observations, batch, mean, logStd);
        network.Act(observations, batch, action, deterministic: true);

        var (torchMean, torchLogStd) = actor.Forward(input);
        AssertClose(Host.Floats(torchMean), mean);
        AssertClose(Host.Floats(torchLogStd), logStd);
        AssertClose(Host.Floats(actor.Deterministic(input)), action);
        for (int s = 0; s < batch; s++)
        {
            Assert.Equal(2f, logStd[s * ActionSize]);
            Assert.Equal(-20f, logStd[s * ActionSize + 1]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    public void PureCSharpActor_MatchesTheTorchActorsSampleForTheSameNoise(int batch)
    {
        using var scope = NewDisposeScope();
        using var actor = NewActor();
        var network = new ActorNetwork(ActorExport.ToActorWeights(actor, 17), batch);
        var random = new Random(73 + batch);
        var observations = Host.Uniform(random, batch * ObservationSize, -3, 3);
        var noise = Host.Normal(random, batch * ActionSize);
        var action = new float[batch * ActionSize];

        network.Act(observations, batch, action, noise);

        var (torchMean, torchLogStd) = actor.Forward(Host.Matrix(observations, batch, ObservationSize));
        var (torchAction, _) = actor.SampleWithNoise(torchMean, torchLogStd, Host.Matrix(noise, batch, ActionSize));
        AssertClose(Host.Floats(torchAction), action);
    }

    [Fact]
    public void ToActorWeights_CopiesLayersBoundsAndVersion()
    {
        using var actor = NewActor();

        var weights = ActorExport.ToActorWeights(actor, 42);

        Assert.Equal(42, weights.Version);
        Assert.Equal(ObservationSize, weights.ObservationSize);
        Assert.Equal(ActionSize, weights.ActionSize);
        Assert.Equal(actor.ActionLow, weights.ActionLow);
        Assert.Equal(actor.ActionHigh, weights.ActionHigh);
        Assert.Equal(actor.LayerCount, weights.Layers.Count);
        for (int l = 0; l < actor.LayerCount; l++)
        {
            Assert.Equal(actor.Weight(l).shape[1], weights.Layers[l].InputSize);
            Assert.Equal(actor.Weight(l).shape[0], weights.Layers[l].OutputSize);
            Assert.Equal(Host.Floats(actor.Weight(l)), weights.Layers[l].Weight);
            Assert.Equal(Host.Floats(actor.Bias(l)), weights.Layers[l].Bias);
        }
    }
}
