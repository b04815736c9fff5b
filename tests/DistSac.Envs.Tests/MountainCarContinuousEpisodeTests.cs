namespace DistSac.Envs.Tests;

public class MountainCarContinuousEpisodeTests
{
    [Fact]
    public void Step_IsTruncatedOnStep999AndNotBefore()
    {
        // With no push the car only rocks in the valley, so the episode can end only by the time limit.
        var env = new MountainCarContinuousEnvironment();
        var observation = new float[2];
        env.Reset(5, observation);

        for (int step = 1; step < 999; step++)
        {
            StepResult early = env.Step([0f], observation);
            Assert.False(early.Truncated, $"step {step} must not be truncated");
            Assert.False(early.Terminated);
        }

        StepResult last = env.Step([0f], observation);

        Assert.True(last.Truncated);
        Assert.False(last.Terminated);
    }

    [Fact]
    public void Reset_DrawsPositionInMinusPointSixToMinusPointFourWithZeroVelocity()
    {
        var env = new MountainCarContinuousEnvironment();
        var observation = new float[2];
        float min = float.MaxValue, max = float.MinValue;

        for (long seed = 0; seed < 2000; seed++)
        {
            env.Reset(seed, observation);
            Assert.InRange(observation[0], -0.6f, -0.4f);
            Assert.Equal(0f, observation[1]);
            min = Math.Min(min, observation[0]);
            max = Math.Max(max, observation[0]);
        }

        Assert.True(min < -0.599f && max > -0.401f, $"position range [{min}, {max}]");
    }

    [Fact]
    public void SameSeed_GivesTheSameEpisode()
    {
        Assert.Equal(Rollout(77), Rollout(77));
    }

    [Fact]
    public void DifferentSeeds_GiveDifferentStarts()
    {
        var env = new MountainCarContinuousEnvironment();
        var a = new float[2];
        var b = new float[2];

        env.Reset(10, a);
        env.Reset(11, b);

        Assert.NotEqual(a[0], b[0]);
    }

    [Fact]
    public void Step_BeforeReset_Throws()
    {
        var env = new MountainCarContinuousEnvironment();

        Assert.Throws<InvalidOperationException>(() => env.Step([0f], new float[2]));
    }

    [Fact]
    public void Step_WithWrongObservationLength_ThrowsNamingTheArgument()
    {
        var env = new MountainCarContinuousEnvironment();
        env.Reset(0, new float[2]);

        var error = Assert.Throws<ArgumentException>(() => env.Step([0f], new float[3]));

        Assert.Equal("observation", error.ParamName);
        Assert.Contains("2", error.Message, StringComparison.Ordinal);
    }

    private static float[] Rollout(long seed)
    {
        var env = new MountainCarContinuousEnvironment();
        var trace = new List<float>();
        var observation = new float[2];
        env.Reset(seed, observation);
        trace.AddRange(observation);
        for (int step = 0; step < 100; step++)
        {
            StepResult result = env.Step([observation[1] >= 0 ? 1f : -1f], observation);
            trace.AddRange(observation);
            trace.Add(result.Reward);
        }

        return trace.ToArray();
    }
}
