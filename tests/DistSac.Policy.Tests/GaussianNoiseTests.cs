namespace DistSac.Policy.Tests;

public class GaussianNoiseTests
{
    private const int SampleCount = 1_000_000;

    [Fact]
    public void Fill_HasMeanNearZeroAndVarianceNearOne()
    {
        var values = new float[SampleCount];

        new GaussianNoise(seed: 2024).Fill(values);

        // Standard errors at n = 1e6: mean 0.001, variance 0.0014; bounds are ~5 of them.
        double mean = values.Average(v => (double)v);
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (SampleCount - 1);
        Assert.InRange(mean, -0.005, 0.005);
        Assert.InRange(variance, 0.993, 1.007);
    }

    [Fact]
    public void Fill_PutsAboutSixtyEightPercentWithinOneStandardDeviation()
    {
        // Mean and variance alone accept a rescaled uniform (57.7% within 1 sigma); a normal has 68.27%.
        var values = new float[SampleCount];

        new GaussianNoise(seed: 7).Fill(values);

        double inside = values.Count(v => Math.Abs(v) < 1f) / (double)SampleCount;
        Assert.InRange(inside, 0.6777, 0.6877);
    }

    [Fact]
    public void Fill_HasNoCorrelationBetweenNeighbours()
    {
        // Polar pairs share a radius; a bug reusing u or v would show up as lag-1 correlation.
        var values = new float[SampleCount];

        new GaussianNoise(seed: 11).Fill(values);

        double sum = 0;
        for (int i = 1; i < values.Length; i++)
        {
            sum += (double)values[i] * values[i - 1];
        }

        Assert.InRange(sum / (SampleCount - 1), -0.006, 0.006);
    }

    [Fact]
    public void Fill_IsDeterministicUnderASeed()
    {
        var first = new float[1000];
        var second = new float[1000];

        new GaussianNoise(seed: 99).Fill(first);
        new GaussianNoise(seed: 99).Fill(second);

        Assert.Equal(first, second);
    }

    [Fact]
    public void Fill_DiffersBetweenSeeds()
    {
        var first = new float[100];
        var second = new float[100];

        new GaussianNoise(seed: 1).Fill(first);
        new GaussianNoise(seed: 2).Fill(second);

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Fill_StreamDoesNotDependOnHowDrawsAreSplit()
    {
        var whole = new float[12];
        var pieces = new float[12];
        var split = new GaussianNoise(seed: 5);

        new GaussianNoise(seed: 5).Fill(whole);
        split.Fill(pieces.AsSpan(0, 7));
        split.Fill(pieces.AsSpan(7, 1));
        split.Fill(pieces.AsSpan(8, 4));

        Assert.Equal(whole, pieces);
    }
}
