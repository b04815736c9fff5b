using DistSac.Learning.Networks;
using DistSac.Learning.Tests.Reference;
using static TorchSharp.torch;

namespace DistSac.Learning.Tests;

public sealed class FlatAdamTests
{
    [Fact]
    public void Step_FollowsAdamWithBiasCorrection()
    {
        const double lr = 0.01, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
        using var block = new ParameterBlock();
        block.Add("w", 5);
        block.Build(CPU, requiresGrad: true);
        float[] initial = [0.5f, -1f, 2f, 0f, 3f];
        using (no_grad())
        using (var values = tensor(initial))
        {
            block.Values.copy_(values);
        }
        using var adam = new FlatAdam(block, lr, beta1, beta2, epsilon);
        var random = new Random(31);
        var x = Array.ConvertAll(initial, v => (double)v);
        var m = new double[5];
        var v = new double[5];

        for (int t = 1; t <= 4; t++)
        {
            var g = Host.Uniform(random, 5, -2, 2);
            if (t == 3) g[3] = 0;
            adam.ZeroGrad();
            using (no_grad())
            using (var gradient = tensor(g))
            {
                block.Gradients.add_(gradient);
            }
            adam.Step();
            for (int i = 0; i < 5; i++)
            {
                m[i] = beta1 * m[i] + (1 - beta1) * g[i];
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
                double mHat = m[i] / (1 - Math.Pow(beta1, t)), vHat = v[i] / (1 - Math.Pow(beta2, t));
                x[i] -= lr * mHat / (Math.Sqrt(vHat) + epsilon);
            }
        }

        Assert.Equal(4, adam.StepCount);
        var actual = Host.Doubles(block.Values);
        for (int i = 0; i < 5; i++) Assert.Equal(x[i], actual[i], 1e-6);
    }
}
