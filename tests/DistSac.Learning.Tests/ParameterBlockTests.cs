using DistSac.Learning.Networks;
using DistSac.Learning.Tests.Reference;
using static TorchSharp.torch;

namespace DistSac.Learning.Tests;

public sealed class ParameterBlockTests
{
    private static ParameterBlock NewBlock(bool requiresGrad)
    {
        var block = new ParameterBlock();
        block.Add("weight", 2, 3);
        block.Add("bias", 3);
        block.Build(CPU, requiresGrad);
        return block;
    }

    [Fact]
    public void Parameters_AreViewsOfTheFlatValuesInTheOrderAdded()
    {
        using var block = NewBlock(requiresGrad: false);
        using (no_grad())
        using (var values = tensor(new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }))
        {
            block.Values.copy_(values);
        }

        Assert.Equal(9, block.Size);
        Assert.Equal(new long[] { 2, 3 }, block[0].shape);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], Host.Floats(block[0]));
        Assert.Equal([7f, 8f, 9f], Host.Floats(block[1]));
        Assert.Equal("bias", block.NameOf(1));
    }

    [Fact]
    public void Backward_AccumulatesGradientsIntoTheFlatGradientTensor()
    {
        using var scope = NewDisposeScope();
        using var block = NewBlock(requiresGrad: true);
        var weightCoefficients = tensor(new float[] { 1, -2, 3, -4, 5, -6 }, [2, 3]);
        var biasCoefficients = tensor(new float[] { 0.5f, 0.25f, -1 });

        ((block[0] * weightCoefficients).sum() + (block[1] * biasCoefficients).sum()).backward();
        (block[1] * biasCoefficients).sum().backward();

        Assert.Equal([1f, -2f, 3f, -4f, 5f, -6f, 1f, 0.5f, -2f], Host.Floats(block.Gradients));
        block.ZeroGradients();
        Assert.Equal(0, Host.MaxAbs(Host.Doubles(block.Gradients)));
    }
}
