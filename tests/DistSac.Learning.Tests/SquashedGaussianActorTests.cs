using DistSac.Learning.Networks;
using DistSac.Learning.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;

namespace DistSac.Learning.Tests;

public sealed class SquashedGaussianActorTests
{
    private const int Batch = 64;

    // Non-unit scales and non-zero biases, so a log-prob that forgets the rescaling (or uses the scaled action, as
    // the seed notebook did) is caught.
    private static (float[] Low, float[] High) Bounds(int actionSize) => actionSize switch
    {
        1 => ([-1f], [3f]),
        3 => ([-2f, 0f, -0.5f], [2f, 4f, 3f]),
        _ => throw new ArgumentOutOfRangeException(nameof(actionSize)),
    };

    private static SquashedGaussianActor NewActor(int actionSize, int observationSize = 2)
    {
        var (low, high) = Bounds(actionSize);
        return new SquashedGaussianActor(observationSize, actionSize, [8], low, high, CPU);
    }

    /// <summary>Random mean, log_std and noise [B, A], kept where tanh is not yet saturated so finite differences are exact enough.</summary>
    private static (float[] Mean, float[] LogStd, float[] Noise) Inputs(int seed, int actionSize)
    {
        var random = new Random(seed);
        int n = Batch * actionSize;
        var noise = Host.Normal(random, n);
        for (int i = 0; i < n; i++) noise[i] = Math.Clamp(noise[i], -2.5f, 2.5f);
        return (Host.Uniform(random, n, -1.5, 1.5), Host.Uniform(random, n, -1.5, 0.5), noise);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void SampleWithNoise_LogProbIsTheChangeOfVariablesDensityOfTheScaledSquashedAction(int actionSize)
    {
        using var scope = NewDisposeScope();
        using var actor = NewActor(actionSize);
        var (low, high) = Bounds(actionSize);
        var (mean, logStd, noise) = Inputs(11 + actionSize, actionSize);

        var (action, logProb) = actor.SampleWithNoise(Host.Matrix(mean, Batch, actionSize), Host.Matrix(logStd, Batch, actionSize), Host.Matrix(noise, Batch, actionSize));

        Assert.Equal(new long[] { Batch, actionSize }, action.shape);
        Assert.Equal(new long[] { Batch, 1 }, logProb.shape);
        var actions = Host.Doubles(action);
        var logProbs = Host.Doubles(logProb);
        for (int s = 0; s < Batch; s++)
        {
            var row = new Range(s * actionSize, (s + 1) * actionSize);
            var expected = ReferenceSac.Sample(
                Array.ConvertAll(mean[row], v => (double)v), Array.ConvertAll(logStd[row], v => (double)v),
                Array.ConvertAll(noise[row], v => (double)v), low, high);
            Assert.Equal(expected.LogProb, logProbs[s], 1e-4);
            for (int i = 0; i < actionSize; i++) Assert.Equal(expected.Action[i], actions[s * actionSize + i], 1e-5);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void SampleWithNoise_LogProbEqualsGaussianDensityMinusLogJacobianFromFiniteDifferences(int actionSize)
    {
        using var scope = NewDisposeScope();
        using var actor = NewActor(actionSize);
        var (low, high) = Bounds(actionSize);
        var (mean, logStd, noise) = Inputs(23 + actionSize, actionSize);

        var (_, logProb) = actor.SampleWithNoise(Host.Matrix(mean, Batch, actionSize), Host.Matrix(logStd, Batch, actionSize), Host.Matrix(noise, Batch, actionSize));

        var logProbs = Host.Doubles(logProb);
        const double h = 1e-4;
        for (int s = 0; s < Batch; s++)
        {
            // a(u) = tanh(u) * scale + bias acts elementwise, so its Jacobian is diagonal: log|det| = sum log|da_i/du_i|.
            double expected = 0;
            for (int i = 0; i < actionSize; i++)
            {
                int k = s * actionSize + i;
                double u = mean[k] + Math.Exp(logStd[k]) * noise[k];
                double scale = ReferenceSac.Scale(low[i], high[i]), bias = ReferenceSac.Bias(low[i], high[i]);
                double derivative = ((Math.Tanh(u + h) * scale + bias) - (Math.Tanh(u - h) * scale + bias)) / (2 * h);
                expected += ReferenceSac.LogNormal(u, mean[k], logStd[k]) - Math.Log(Math.Abs(derivative));
            }
            Assert.Equal(expected, logProbs[s], 1e-3);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void SampleWithNoise_ActionIsTanhOfTheGaussianSampleScaledIntoTheBounds(int actionSize)
    {
        using var scope = NewDisposeScope();
        using var actor = NewActor(actionSize);
        var (low, high) = Bounds(actionSize);
        var random = new Random(5);
        int n = Batch * actionSize;
        // Wide noise: many samples land deep in tanh's saturated tails, where only the bounds can be checked.
        var mean = Host.Uniform(random, n, -3, 3);
        var logStd = Host.Uniform(random, n, -2, 2);
        var noise = Host.Normal(random, n);

        var (action, _) = actor.SampleWithNoise(Host.Matrix(mean, Batch, actionSize), Host.Matrix(logStd, Batch, actionSize), Host.Matrix(noise, Batch, actionSize));

        var actions = Host.Floats(action);
        for (int k = 0; k < n; k++)
        {
            int i = k % actionSize;
            double u = mean[k] + Math.Exp(logStd[k]) * noise[k];
            Assert.Equal(Math.Tanh(u) * ReferenceSac.Scale(low[i], high[i]) + ReferenceSac.Bias(low[i], high[i]), actions[k], 1e-5);
            Assert.InRange(actions[k], low[i], high[i]);
        }
    }

    [Fact]
    public void SampleWithNoise_LogProbStaysFiniteAndExactWhereTanhSaturates()
    {
        using var scope = NewDisposeScope();
        using var actor = NewActor(3);
        var (low, high) = Bounds(3);
        // u = +-12 and +-15: 1 - tanh(u)^2 is below float32's resolution next to 1, so a naive log(1 - tanh^2) is -inf.
        float[] mean = [12f, -12f, 14f];
        float[] logStd = [-3f, -3f, 0f];
        float[] noise = [0.5f, -0.5f, 1f];
        using var meanTensor = Host.Matrix(mean, 1, 3).requires_grad_();
        using var logStdTensor = Host.Matrix(logStd, 1, 3).requires_grad_();

        var (action, logProb) = actor.SampleWithNoise(meanTensor, logStdTensor, Host.Matrix(noise, 1, 3));
        logProb.sum().backward();

        var expected = ReferenceSac.Sample(Array.ConvertAll(mean, v => (double)v), Array.ConvertAll(logStd, v => (double)v), Array.ConvertAll(noise, v => (double)v), low, high);
        Assert.Equal(expected.LogProb, Host.Doubles(logProb)[0], 1e-3 * Math.Abs(expected.LogProb));
        var actions = Host.Floats(action);
        for (int i = 0; i < 3; i++) Assert.InRange(actions[i], low[i], high[i]);
        Assert.All(Host.Floats(meanTensor.grad!), g => Assert.True(float.IsFinite(g)));
        Assert.All(Host.Floats(logStdTensor.grad!), g => Assert.True(float.IsFinite(g)));
    }

    [Fact]
    public void Forward_ClampsLogStdToMinusTwentyAndTwo()
    {
        using var scope = NewDisposeScope();
        using var actor = NewActor(3);
        int last = actor.LayerCount - 1;
        using (no_grad())
        {
            // A zero last layer makes the outputs equal its bias: mean (0.1, -0.2, 0.3), log_std (5, -30, 0.5).
            actor.Weight(last).zero_();
            actor.Bias(last).copy_(tensor(new[] { 0.1f, -0.2f, 0.3f, 5f, -30f, 0.5f }));
        }
        var observations = Host.Matrix(Host.Uniform(new Random(3), 4 * 2, -1, 1), 4, 2);

        var (mean, logStd) = actor.Forward(observations);

        var means = Host.Floats(mean);
        var logStds = Host.Floats(logStd);
        for (int s = 0; s < 4; s++)
        {
            Assert.Equal([0.1f, -0.2f, 0.3f], means[(s * 3)..((s + 1) * 3)]);
            Assert.Equal([2f, -20f, 0.5f], logStds[(s * 3)..((s + 1) * 3)]);
        }
    }

    [Fact]
    public void Sample_DrawsWithTheClampedStandardDeviation()
    {
        using var scope = NewDisposeScope();
        using var actor = NewActor(3);
        var (low, high) = Bounds(3);
        int last = actor.LayerCount - 1;
        using (no_grad())
        {
            actor.Weight(last).zero_();
            actor.Bias(last).copy_(tensor(new[] { 0.1f, -0.2f, 0.3f, 5f, -30f, 0.5f }));
        }
        const int batch = 16;
        var observations = Host.Matrix(Host.Uniform(new Random(4), batch * 2, -1, 1), batch, 2);

        using var generator = new Generator(77);
        using var replay = new Generator(77);
        var (action, logProb) = actor.Sample(observations, generator);
        var noise = Host.Doubles(randn([batch, 3], dtype: float32, generator: replay));

        var actions = Host.Doubles(action);
        var logProbs = Host.Doubles(logProb);
        double[] mean = [0.1, -0.2, 0.3];
        double[] clamped = [2, -20, 0.5];
        for (int s = 0; s < batch; s++)
        {
            var expected = ReferenceSac.Sample(mean, clamped, noise.AsSpan(s * 3, 3), low, high);
            Assert.Equal(expected.LogProb, logProbs[s], 1e-3);
            for (int i = 0; i < 3; i++) Assert.Equal(expected.Action[i], actions[s * 3 + i], 1e-5);
        }
    }

    [Fact]
    public void Deterministic_IsTanhOfTheMeanScaledIntoTheBounds()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(8);
        using var actor = new SquashedGaussianActor(4, 3, [32, 32], [-2f, 0f, -0.5f], [2f, 4f, 3f], CPU);
        const int batch = 9;
        var observations = Host.Uniform(new Random(9), batch * 4, -3, 3);

        var action = Host.Doubles(actor.Deterministic(Host.Matrix(observations, batch, 4)));

        var (mean, _) = ReferenceSac.ActorForward(actor, Array.ConvertAll(observations, v => (double)v), batch);
        for (int k = 0; k < batch * 3; k++)
        {
            int i = k % 3;
            Assert.Equal(Math.Tanh(mean[k]) * ReferenceSac.Scale(actor.ActionLow[i], actor.ActionHigh[i]) + ReferenceSac.Bias(actor.ActionLow[i], actor.ActionHigh[i]), action[k], 1e-5);
        }
    }
}
