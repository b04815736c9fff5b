namespace DistSac.Policy.Tests;

public class OrnsteinUhlenbeckNoiseTests
{
    [Fact]
    public void Values_AreUnitVarianceAndCorrelatedStepToStepByRho()
    {
        const int Steps = 200_000;
        var noise = new OrnsteinUhlenbeckNoise(seed: 3, environments: 1, actionSize: 1, correlationSteps: 15);
        var value = new float[1];
        double sum = 0, sumSquares = 0, sumLag = 0;
        double previous = 0;
        for (int t = 0; t < Steps; t++)
        {
            noise.Fill(value);
            sum += value[0];
            sumSquares += value[0] * value[0];
            if (t > 0) sumLag += previous * value[0];
            previous = value[0];
        }

        double mean = sum / Steps;
        double variance = (sumSquares / Steps) - (mean * mean);
        double lagOne = (sumLag / (Steps - 1)) / variance;

        Assert.Equal(Math.Exp(-1.0 / 15), noise.Rho, 6);
        // Correlated samples carry less information; 200k steps of a 15-step process still pin these to a few percent.
        Assert.InRange(mean, -0.05, 0.05);
        Assert.InRange(variance, 0.95, 1.05);
        Assert.InRange(lagOne, noise.Rho - 0.01, noise.Rho + 0.01);
    }

    [Fact]
    public void EachLane_FollowsTheRecurrenceOnTheWhiteStream()
    {
        // Lanes are (environment, dimension), environment-major; the white draws come from GaussianNoise(seed) in order.
        var noise = new OrnsteinUhlenbeckNoise(seed: 11, environments: 2, actionSize: 2, correlationSteps: 4);
        var white = new GaussianNoise(11);
        var first = new float[4];
        var second = new float[4];
        var w1 = new float[4];
        var w2 = new float[4];
        white.Fill(w1);
        white.Fill(w2);

        noise.Fill(first);
        noise.Fill(second);

        Assert.Equal(w1, first);   // an episode starts with a stationary N(0, 1) draw
        float rho = (float)Math.Exp(-0.25);
        float scale = (float)Math.Sqrt(1 - Math.Exp(-0.5));
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal((rho * w1[i]) + (scale * w2[i]), second[i]);
        }
    }

    [Fact]
    public void Restart_StartsOnlyThatEnvironmentAfresh()
    {
        var noise = new OrnsteinUhlenbeckNoise(seed: 5, environments: 2, actionSize: 1, correlationSteps: 10);
        var white = new GaussianNoise(5);
        var values = new float[2];
        var draws = new float[2];
        noise.Fill(values);
        white.Fill(draws);
        float keptBefore = values[1];

        noise.Restart(0);
        noise.Fill(values);
        white.Fill(draws);

        Assert.Equal(draws[0], values[0]);
        Assert.NotEqual(draws[1], values[1]);
        Assert.Equal((noise.Rho * keptBefore) + ((float)Math.Sqrt(1 - Math.Exp(-0.2)) * draws[1]), values[1]);
    }

    [Fact]
    public void WhiteNoise_HasNoCorrelation_AndIsTheExistingGaussianStream()
    {
        IExplorationNoise white = new ExplorationSettings(ExplorationNoiseKind.White, 15).Create(seed: 9, environments: 1, actionSize: 3);

        Assert.IsType<GaussianNoise>(white);
    }

    [Theory]
    [InlineData("MountainCarContinuous-v0", "ou")]
    [InlineData("Pendulum-v1", "white")]
    public void Defaults_AreCorrelatedOnlyWhereWhiteNoiseFails(string envId, string expected)
    {
        Assert.Equal(expected, ExplorationSettings.DefaultFor(envId).Noise);
    }

    [Fact]
    public void Resolve_PutsConfiguredValuesOverTheEnvironmentDefault()
    {
        Assert.Equal(new ExplorationSettings("ou", 15), ExplorationSettings.Resolve("MountainCarContinuous-v0", "", 0));
        Assert.Equal(new ExplorationSettings("white", 15), ExplorationSettings.Resolve("MountainCarContinuous-v0", "white", 0));
        Assert.Equal(new ExplorationSettings("ou", 40), ExplorationSettings.Resolve("Pendulum-v1", "ou", 40));
    }

    [Fact]
    public void UnknownKind_IsRefusedNamingTheKeyAndTheChoices()
    {
        var error = Assert.Throws<ArgumentException>(() => ExplorationNoiseKind.Validate("pink", "Train:ExplorationNoise"));

        Assert.Contains("Train:ExplorationNoise is 'pink'", error.Message, StringComparison.Ordinal);
        Assert.Contains("white", error.Message, StringComparison.Ordinal);
        Assert.Contains("ou", error.Message, StringComparison.Ordinal);
    }
}
