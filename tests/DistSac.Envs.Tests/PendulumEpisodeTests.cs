namespace DistSac.Envs.Tests;

public class PendulumEpisodeTests
{
    [Fact]
    public void Step_IsTruncatedOnStep200AndNotBefore()
    {
        var env = new PendulumEnvironment();
        var observation = new float[3];
        env.Reset(3, observation);

        for (int step = 1; step < 200; step++)
        {
            StepResult early = env.Step([0.5f], observation);
            Assert.False(early.Truncated, $"step {step} must not be truncated");
            Assert.False(early.Terminated);
        }

        StepResult last = env.Step([0.5f], observation);

        Assert.True(last.Truncated);
        Assert.False(last.Terminated);
    }

    [Fact]
    public void Reset_RestartsTheTimeLimit()
    {
        var env = new PendulumEnvironment();
        var observation = new float[3];
        env.Reset(3, observation);
        for (int step = 0; step < 150; step++)
        {
            env.Step([0f], observation);
        }

        env.Reset(null, observation);
        StepResult result = default;
        for (int step = 0; step < 199; step++)
        {
            result = env.Step([0f], observation);
        }

        Assert.False(result.Truncated);
    }

    [Fact]
    public void Reset_DrawsThetaInMinusPiPiAndSpeedInMinusOneOne()
    {
        var env = new PendulumEnvironment();
        var observation = new float[3];
        double minTheta = double.MaxValue, maxTheta = double.MinValue;
        double minSpeed = double.MaxValue, maxSpeed = double.MinValue;

        for (long seed = 0; seed < 2000; seed++)
        {
            env.Reset(seed, observation);
            double theta = Math.Atan2(observation[1], observation[0]);
            Assert.Equal(1.0, (observation[0] * observation[0]) + (observation[1] * observation[1]), 1e-6);
            Assert.InRange(observation[2], -1f, 1f);
            minTheta = Math.Min(minTheta, theta);
            maxTheta = Math.Max(maxTheta, theta);
            minSpeed = Math.Min(minSpeed, observation[2]);
            maxSpeed = Math.Max(maxSpeed, observation[2]);
        }

        // 2000 uniform draws leave gaps of about 1/2000 of the range at either end.
        Assert.True(minTheta < -3.1 && maxTheta > 3.1, $"theta range [{minTheta}, {maxTheta}]");
        Assert.True(minSpeed < -0.99 && maxSpeed > 0.99, $"speed range [{minSpeed}, {maxSpeed}]");
    }

    [Fact]
    public void SameSeed_GivesTheSameEpisode()
    {
        float[] first = Rollout(seed: 1234);
        float[] second = Rollout(seed: 1234);

        Assert.Equal(first, second);
    }

    [Fact]
    public void DifferentSeeds_GiveDifferentStarts()
    {
        var env = new PendulumEnvironment();
        var a = new float[3];
        var b = new float[3];

        env.Reset(1, a);
        env.Reset(2, b);

        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Reset_WithoutSeed_ContinuesTheSeededStream()
    {
        var env = new PendulumEnvironment();
        var twin = new PendulumEnvironment();
        var seeded = new float[3];
        var next = new float[3];
        var twinNext = new float[3];

        env.Reset(9, seeded);
        env.Reset(null, next);
        twin.Reset(9, new float[3]);
        twin.Reset(null, twinNext);

        Assert.NotEqual(seeded, next);
        Assert.Equal(next, twinNext);
    }

    [Fact]
    public void Step_BeforeReset_Throws()
    {
        var env = new PendulumEnvironment();

        Assert.Throws<InvalidOperationException>(() => env.Step([0f], new float[3]));
    }

    [Theory]
    [InlineData(0, 3, "action")]
    [InlineData(2, 3, "action")]
    [InlineData(1, 2, "observation")]
    public void Step_WithWrongSpanLength_ThrowsNamingTheArgument(int actionLength, int observationLength, string name)
    {
        var env = new PendulumEnvironment();
        env.Reset(0, new float[3]);

        var error = Assert.Throws<ArgumentException>(
            () => env.Step(new float[actionLength], new float[observationLength]));

        Assert.Equal(name, error.ParamName);
    }

    [Fact]
    public void Reset_WithWrongObservationLength_ThrowsWithTheExpectedLength()
    {
        var env = new PendulumEnvironment();

        var error = Assert.Throws<ArgumentException>(() => env.Reset(0, new float[4]));

        Assert.Equal("observation", error.ParamName);
        Assert.Contains("3", error.Message, StringComparison.Ordinal);
    }

    private static float[] Rollout(long seed)
    {
        var env = new PendulumEnvironment();
        var trace = new List<float>();
        var observation = new float[3];
        env.Reset(seed, observation);
        trace.AddRange(observation);
        for (int step = 0; step < 50; step++)
        {
            float torque = (float)Math.Sin(step * 0.3) * 2.5f;
            StepResult result = env.Step([torque], observation);
            trace.AddRange(observation);
            trace.Add(result.Reward);
        }

        return trace.ToArray();
    }
}
