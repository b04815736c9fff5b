namespace DistSac.Envs.Tests;

/// <summary>
/// MountainCarContinuous-v0 step against the equations of Gymnasium's continuous_mountain_car.py, evaluated here
/// in plain double arithmetic; bit-level float32 agreement is pinned in GymnasiumReferenceTests.
/// </summary>
public class MountainCarContinuousDynamicsTests
{
    [Theory]
    [InlineData(-0.5f, 0.01f, 0.5f)]
    [InlineData(-0.9f, -0.03f, -0.8f)]
    [InlineData(0.1f, 0.045f, 0.0f)]
    [InlineData(-0.2f, -0.02f, 1.0f)]
    public void Step_FromAGivenState_FollowsGymnasiumEquations(float position, float velocity, float action)
    {
        var env = NewCar(position, velocity);
        var observation = new float[2];

        StepResult result = env.Step([action], observation);

        var expected = Reference(position, velocity, action);
        Assert.Equal(expected.Position, observation[0], 1e-6);
        Assert.Equal(expected.Velocity, observation[1], 1e-6);
        Assert.Equal(expected.Reward, result.Reward, 1e-6);
        Assert.False(result.Terminated);
    }

    [Theory]
    [InlineData(3f, 1f)]
    [InlineData(-2.5f, -1f)]
    public void Step_ClipsTheForceButChargesTheUnclippedAction(float action, float clipped)
    {
        var clippedEnv = NewCar(-0.5f, 0.0f);
        var env = NewCar(-0.5f, 0.0f);
        var clippedObservation = new float[2];
        var observation = new float[2];

        clippedEnv.Step([clipped], clippedObservation);
        StepResult result = env.Step([action], observation);

        Assert.Equal(clippedObservation, observation);
        Assert.Equal(-0.1 * action * action, result.Reward, 1e-6);
    }

    [Theory]
    [InlineData(-1.0f, 0.0695f, 1f, 0.07)]
    [InlineData(-0.3f, -0.0695f, -1f, -0.07)]
    public void Step_ClipsVelocityToMaxSpeed(float position, float velocity, float action, double clippedVelocity)
    {
        var env = NewCar(position, velocity);
        var observation = new float[2];
        double unclipped = velocity + (action * 0.0015) - (0.0025 * Math.Cos(3 * position));

        env.Step([action], observation);

        Assert.True(Math.Abs(unclipped) > 0.07, "the chosen state must exceed the speed limit");
        Assert.Equal((float)clippedVelocity, observation[1]);
        Assert.Equal(position + clippedVelocity, observation[0], 1e-6);
    }

    [Fact]
    public void Step_HittingTheLeftWall_StopsTheCar()
    {
        var env = NewCar(-1.15f, -0.06f);
        var observation = new float[2];

        StepResult result = env.Step([-1f], observation);

        Assert.Equal(-1.2f, observation[0]);
        Assert.Equal(0f, observation[1]);
        Assert.False(result.Terminated);
    }

    [Fact]
    public void Step_ReachingTheGoal_TerminatesWithHundredMinusTheUnclippedActionCost()
    {
        var env = NewCar(0.44f, 0.02f);
        var observation = new float[2];

        StepResult result = env.Step([1.5f], observation);

        Assert.True(result.Terminated);
        Assert.True(observation[0] >= 0.45f);
        Assert.Equal(100.0 - (0.1 * 1.5 * 1.5), result.Reward, 1e-5);
    }

    [Fact]
    public void Step_PastTheGoalButRollingBack_DoesNotTerminate()
    {
        var env = NewCar(0.5f, -0.01f);
        var observation = new float[2];

        StepResult result = env.Step([0f], observation);

        Assert.True(observation[0] >= 0.45f && observation[1] < 0f);
        Assert.False(result.Terminated);
        Assert.Equal(0f, result.Reward);
    }

    [Fact]
    public void Step_AtTheRightEdge_ClipsPositionAndTerminates()
    {
        var env = NewCar(0.58f, 0.06f);
        var observation = new float[2];

        StepResult result = env.Step([0f], observation);

        Assert.Equal(0.6f, observation[0]);
        Assert.True(result.Terminated);
        Assert.Equal(100f, result.Reward);
    }

    [Fact]
    public void Step_LandingOnFloat32GoalPosition_Terminates()
    {
        // Gymnasium compares a float32 position with the Python float 0.45 in float32 under NumPy 2 (NEP 50), so
        // 0.45f = 0.449999988... counts as the goal. State and action found with the transcription in Reference/.
        var env = NewCar(0.43068784f, 0.02f);
        var observation = new float[2];

        StepResult result = env.Step([0f], observation);

        Assert.Equal(0.45f, observation[0]);
        Assert.True(observation[0] < 0.45, "as a double the position is just below the goal");
        Assert.True(result.Terminated);
        Assert.Equal(100f, result.Reward);
    }

    [Fact]
    public void Step_WithNaNAction_PassesNaNThroughWithoutThrowing()
    {
        var env = NewCar(-0.5f, 0.0f);
        var observation = new float[2];

        StepResult result = env.Step([float.NaN], observation);

        Assert.True(float.IsNaN(result.Reward));
        Assert.True(float.IsNaN(observation[0]));
        Assert.False(result.Terminated);
    }

    private static (double Position, double Velocity, double Reward) Reference(double position, double velocity, double action)
    {
        double force = Math.Clamp(action, -1.0, 1.0);
        velocity += (force * 0.0015) - (0.0025 * Math.Cos(3 * position));
        velocity = Math.Clamp(velocity, -0.07, 0.07);
        position = Math.Clamp(position + velocity, -1.2, 0.6);
        if (position == -1.2 && velocity < 0)
        {
            velocity = 0;
        }

        bool terminated = position >= 0.45 && velocity >= 0;
        return (position, velocity, (terminated ? 100.0 : 0.0) - (action * action * 0.1));
    }

    internal static MountainCarContinuousEnvironment NewCar(float position, float velocity)
    {
        var env = new MountainCarContinuousEnvironment();
        env.Reset(0, new float[2]);
        env.SetState(position, velocity);
        return env;
    }
}
