namespace DistSac.Envs.Tests;

public class VectorEnvironmentTests
{
    [Fact]
    public void Reset_SeedsEnvironmentIWithSeedPlusI()
    {
        var vector = new VectorEnvironment("Pendulum-v1", 3, seed: 40);

        vector.Reset();

        for (int i = 0; i < 3; i++)
        {
            var expected = new float[3];
            EnvironmentRegistry.Make("Pendulum-v1").Reset(40 + i, expected);
            Assert.Equal(expected, vector.Observations.Slice(i * 3, 3).ToArray());
        }
    }

    [Fact]
    public void Reset_SecondTime_ContinuesTheStreamsInsteadOfReseeding()
    {
        var vector = new VectorEnvironment("Pendulum-v1", 2, seed: 1);
        vector.Reset();
        float[] first = vector.Observations.ToArray();

        vector.Reset();

        Assert.NotEqual(first, vector.Observations.ToArray());
    }

    [Fact]
    public void Step_OnTruncation_WritesFinalObservationThenAutoresets()
    {
        var vector = new VectorEnvironment("Pendulum-v1", 2, seed: 5);
        IEnvironment[] single = [EnvironmentRegistry.Make("Pendulum-v1"), EnvironmentRegistry.Make("Pendulum-v1")];
        var singleObservation = new float[3];
        single[0].Reset(5, singleObservation);
        single[1].Reset(6, singleObservation);
        vector.Reset();
        float[] actions = [0.5f, -0.5f];
        var next = new float[6];
        var rewards = new float[2];
        var terminated = new float[2];
        var truncated = new float[2];
        var returns = new double[2];
        var singleNext = new float[2][] { new float[3], new float[3] };

        for (int step = 1; step <= 200; step++)
        {
            vector.Step(actions, next, rewards, terminated, truncated);
            for (int i = 0; i < 2; i++)
            {
                StepResult result = single[i].Step(actions.AsSpan(i, 1), singleNext[i]);
                returns[i] += result.Reward;
                Assert.Equal(result.Reward, rewards[i]);
                Assert.Equal(result.Truncated ? 1f : 0f, truncated[i]);
            }

            if (step < 200)
            {
                Assert.Equal(0L, vector.CompletedEpisodes);
                Assert.Equal(next, vector.Observations.ToArray());
            }
        }

        Assert.Equal([1f, 1f], truncated);
        Assert.Equal([0f, 0f], terminated);
        Assert.Equal(singleNext[0].Concat(singleNext[1]), next);
        single[0].Reset(null, singleNext[0]);
        single[1].Reset(null, singleNext[1]);
        Assert.Equal(singleNext[0].Concat(singleNext[1]), vector.Observations.ToArray());
        Assert.Equal(2L, vector.CompletedEpisodes);
        Assert.Equal(returns[1], vector.LastEpisodeReturn);   // environment 1 finished last in the call
        Assert.Equal(200.0, vector.LastEpisodeLength);
    }

    [Fact]
    public void Step_OnTermination_WritesFinalObservationThenAutoresets()
    {
        var vector = new VectorEnvironment("MountainCarContinuous-v0", 1, seed: 21);
        vector.Reset();
        var next = new float[2];
        var rewards = new float[1];
        var terminated = new float[1];
        var truncated = new float[1];
        double expectedReturn = 0;
        int steps = 0;

        // Pushing along the velocity pumps energy until the car reaches the flag, well before the time limit.
        while (terminated[0] == 0f && steps < 999)
        {
            float push = vector.Observations[1] >= 0 ? 1f : -1f;
            vector.Step([push], next, rewards, terminated, truncated);
            expectedReturn += rewards[0];
            steps++;
        }

        Assert.Equal(1f, terminated[0]);
        Assert.Equal(0f, truncated[0]);
        Assert.Equal(99.9f, rewards[0]);
        Assert.True(next[0] >= 0.45f, "the transition keeps the final observation at the goal");
        Assert.InRange(vector.Observations[0], -0.6f, -0.4f);
        Assert.Equal(0f, vector.Observations[1]);
        Assert.Equal(1L, vector.CompletedEpisodes);
        Assert.Equal(expectedReturn, vector.LastEpisodeReturn);
        Assert.Equal(steps, vector.LastEpisodeLength);
    }

    [Fact]
    public void LastEpisodeStatistics_AreNaNBeforeAnyEpisodeEnds()
    {
        var vector = new VectorEnvironment("Pendulum-v1", 1, seed: 0);

        Assert.True(double.IsNaN(vector.LastEpisodeReturn));
        Assert.True(double.IsNaN(vector.LastEpisodeLength));
        Assert.Equal(0L, vector.CompletedEpisodes);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Constructor_WithCountBelowOne_Throws(int count)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new VectorEnvironment("Pendulum-v1", count, 0));
    }

    [Fact]
    public void Constructor_WithUnknownId_Throws()
    {
        Assert.Throws<UnknownEnvironmentException>(() => new VectorEnvironment("Nope-v0", 2, 0));
    }

    [Fact]
    public void Step_BeforeReset_Throws()
    {
        var vector = new VectorEnvironment("Pendulum-v1", 2, 0);

        Assert.Throws<InvalidOperationException>(
            () => vector.Step(new float[2], new float[6], new float[2], new float[2], new float[2]));
    }

    [Theory]
    [InlineData("actions", 2)]
    [InlineData("nextObservations", 6)]
    [InlineData("rewards", 2)]
    [InlineData("terminated", 2)]
    [InlineData("truncated", 2)]
    public void Step_WithAWrongSpanLength_ThrowsNamingTheArgumentAndTheExpectedLength(string name, int expected)
    {
        var vector = new VectorEnvironment("Pendulum-v1", 2, 0);
        vector.Reset();
        float[] Buffer(string argument, int length) => new float[argument == name ? length + 1 : length];

        var error = Assert.Throws<ArgumentException>(() => vector.Step(
            Buffer("actions", 2), Buffer("nextObservations", 6), Buffer("rewards", 2),
            Buffer("terminated", 2), Buffer("truncated", 2)));

        Assert.Equal(name, error.ParamName);
        Assert.Contains($"length {expected},", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Pendulum-v1")]
    [InlineData("MountainCarContinuous-v0")]
    public void Step_DoesNotAllocate(string id)
    {
        var vector = new VectorEnvironment(id, 8, seed: 3);
        vector.Reset();
        var actions = new float[8 * vector.Spec.ActionSize];
        var next = new float[8 * vector.Spec.ObservationSize];
        var rewards = new float[8];
        var terminated = new float[8];
        var truncated = new float[8];
        RunSteps(vector, 3_000, actions, next, rewards, terminated, truncated);   // warm-up, through autoresets

        long before = GC.GetAllocatedBytesForCurrentThread();
        RunSteps(vector, 10_000, actions, next, rewards, terminated, truncated);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0L, allocated);
        Assert.True(vector.CompletedEpisodes > 8, "the measured steps include autoresets");
    }

    private static void RunSteps(
        VectorEnvironment vector, int steps, float[] actions, float[] next, float[] rewards, float[] terminated, float[] truncated)
    {
        for (int step = 0; step < steps; step++)
        {
            for (int i = 0; i < actions.Length; i++)
            {
                actions[i] = (step + i) % 3 - 1;
            }

            vector.Step(actions, next, rewards, terminated, truncated);
        }
    }
}
