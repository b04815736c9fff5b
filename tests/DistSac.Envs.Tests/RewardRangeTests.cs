namespace DistSac.Envs.Tests;

/// <summary>
/// The reward ranges in the specs bound every reward the dynamics produce for actions in the action box: the gateway
/// refuses rewards outside them, so a range that is too tight would refuse normal training.
/// </summary>
public sealed class RewardRangeTests
{
    [Fact]
    public void Pendulum_RewardRange_IsMinusTheLargestCostToZero()
    {
        var spec = PendulumEnvironment.DefaultSpec;
        double largestCost = Math.PI * Math.PI + 0.1 * 8 * 8 + 0.001 * 2 * 2; // pendulum.py: th^2 + .1 thdot^2 + .001 u^2

        Assert.Equal((float)-largestCost, spec.RewardLow);
        Assert.Equal(0f, spec.RewardHigh);
    }

    [Theory]
    [InlineData(-Math.PI, 8.0, 2f)]
    [InlineData(Math.PI - 1e-12, -8.0, -2f)]
    [InlineData(3 * Math.PI, 8.0, 100f)] // the torque is clipped to 2, so the cost is too
    [InlineData(0.0, 0.0, 0f)]
    public void Pendulum_ExtremeStates_StayInsideTheRewardRange(double theta, double thetaDot, float action)
    {
        var env = new PendulumEnvironment();
        env.Reset(1, new float[3]);
        env.SetState(theta, thetaDot);

        float reward = env.Step([action], new float[3]).Reward;

        AssertInside(reward, PendulumEnvironment.DefaultSpec);
    }

    [Fact]
    public void MountainCar_RewardRange_IsTheActionCostToTheGoalBonus()
    {
        var spec = MountainCarContinuousEnvironment.DefaultSpec;

        Assert.Equal(-0.1f, spec.RewardLow);
        Assert.Equal(100f, spec.RewardHigh);
    }

    [Theory]
    [InlineData(0.449f, 0.07f, 0f)]   // reaches the goal: +100
    [InlineData(0.449f, 0.07f, 1f)]   // reaches the goal at full throttle: 100 - 0.1
    [InlineData(-0.5f, 0f, -1f)]      // full reverse: -0.1
    public void MountainCar_ExtremeSteps_StayInsideTheRewardRange(float position, float velocity, float action)
    {
        var env = new MountainCarContinuousEnvironment();
        env.Reset(1, new float[2]);
        env.SetState(position, velocity);

        float reward = env.Step([action], new float[2]).Reward;

        AssertInside(reward, MountainCarContinuousEnvironment.DefaultSpec);
    }

    [Theory]
    [InlineData("Pendulum-v1")]
    [InlineData("MountainCarContinuous-v0")]
    public void RandomEpisodes_WithActionsAtAndInsideTheBounds_StayInsideEverySpace(string id)
    {
        var spec = EnvironmentRegistry.GetSpec(id);
        var env = EnvironmentRegistry.Make(id);
        var random = new Random(3);
        var obs = new float[spec.ObservationSize];
        env.Reset(5, obs);
        var action = new float[spec.ActionSize];
        for (int step = 0; step < 20_000; step++)
        {
            for (int a = 0; a < action.Length; a++)
            {
                // A third of the actions sit exactly on a bound, as a saturated tanh actor produces.
                int pick = random.Next(3);
                action[a] = pick == 0 ? spec.ActionLow[a] : pick == 1 ? spec.ActionHigh[a]
                    : spec.ActionLow[a] + (float)random.NextDouble() * (spec.ActionHigh[a] - spec.ActionLow[a]);
            }
            var result = env.Step(action, obs);
            AssertInside(result.Reward, spec);
            for (int k = 0; k < obs.Length; k++)
                Assert.InRange(obs[k], spec.ObservationLow[k], spec.ObservationHigh[k]);
            if (result.Terminated || result.Truncated) env.Reset(null, obs);
        }
    }

    private static void AssertInside(float reward, EnvSpec spec)
    {
        // The gateway's tolerance is relative 1e-5; the dynamics should not even need it beyond float rounding.
        float slack = 1e-5f * Math.Max(1f, Math.Abs(spec.RewardLow));
        Assert.InRange(reward, spec.RewardLow - slack, spec.RewardHigh);
    }
}
