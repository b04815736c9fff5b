namespace DistSac.Envs.Tests;

/// <summary>
/// Pendulum-v1 step against the equations of Gymnasium's pendulum.py, evaluated here in plain double
/// arithmetic (the float32 torque products of NumPy 2 differ by far less than the tolerances).
/// </summary>
public class PendulumDynamicsTests
{
    private const double TwoPi = 2 * Math.PI;

    [Theory]
    [InlineData(1.0, -0.5, 0.3)]
    [InlineData(-2.0, 3.0, -1.25)]
    [InlineData(0.0, 0.0, 0.0)]
    [InlineData(Math.PI, 0.0, 1.0)]
    [InlineData(5.5, -6.0, 2.0)]
    [InlineData(-9.0, 1.5, -0.75)]
    public void Step_FromAGivenState_FollowsGymnasiumEquations(double theta, double thetaDot, float torque)
    {
        var env = NewPendulum(theta, thetaDot);
        var observation = new float[3];

        StepResult result = env.Step([torque], observation);

        var (expectedTheta, expectedThetaDot, expectedReward) = Reference(theta, thetaDot, torque);
        Assert.Equal(Math.Cos(expectedTheta), observation[0], 1e-6);
        Assert.Equal(Math.Sin(expectedTheta), observation[1], 1e-6);
        Assert.Equal(expectedThetaDot, observation[2], 1e-6);
        Assert.Equal(expectedReward, result.Reward, 1e-5);
        Assert.False(result.Terminated);
    }

    [Fact]
    public void Step_TwoStepsInARow_CarryTheFloat64State()
    {
        var env = NewPendulum(0.7, -1.1);
        var observation = new float[3];

        env.Step([0.4f], observation);
        StepResult second = env.Step([-0.9f], observation);

        var first = Reference(0.7, -1.1, 0.4f);
        var expected = Reference(first.Theta, first.ThetaDot, -0.9f);
        Assert.Equal(Math.Sin(expected.Theta), observation[1], 1e-6);
        Assert.Equal(expected.ThetaDot, observation[2], 1e-6);
        Assert.Equal(expected.Reward, second.Reward, 1e-5);
    }

    [Theory]
    [InlineData(3 * Math.PI / 2, -Math.PI / 2)]   // wraps down by one turn
    [InlineData(-3.5, -3.5 + TwoPi)]              // negative input: floored modulo wraps up, not to -3.5
    [InlineData(Math.PI, -Math.PI)]               // the interval is [-pi, pi): pi maps to -pi
    [InlineData(-Math.PI, -Math.PI)]
    [InlineData(7.0, 7.0 - TwoPi)]
    [InlineData(-7.0, -7.0 + TwoPi)]
    [InlineData(0.25, 0.25)]
    public void Step_RewardUsesTheAngleNormalisedToMinusPiPi(double theta, double normalized)
    {
        var env = NewPendulum(theta, 0.0);

        StepResult result = env.Step([0f], new float[3]);

        Assert.Equal(-(normalized * normalized), result.Reward, 1e-5);
    }

    [Theory]
    [InlineData(-3.5)]
    [InlineData(-100.0)]
    [InlineData(-1e-9)]
    [InlineData(13.0)]
    [InlineData(-Math.PI - 0.5)]
    public void AngleNormalize_ReturnsAValueInMinusPiToPi_CongruentToTheInput(double x)
    {
        double expected = x - (TwoPi * Math.Floor((x + Math.PI) / TwoPi));

        double actual = PendulumEnvironment.AngleNormalize(x);

        Assert.Equal(expected, actual, 1e-12);
        Assert.InRange(actual, -Math.PI, Math.PI);
    }

    [Theory]
    [InlineData(5f, 2f)]
    [InlineData(-5f, -2f)]
    [InlineData(float.PositiveInfinity, 2f)]
    public void Step_WithTorqueOutOfRange_BehavesAsTheClippedTorque(float torque, float clipped)
    {
        var clippedEnv = NewPendulum(0.3, 0.2);
        var env = NewPendulum(0.3, 0.2);
        var clippedObservation = new float[3];
        var observation = new float[3];

        StepResult expected = clippedEnv.Step([clipped], clippedObservation);
        StepResult actual = env.Step([torque], observation);

        Assert.Equal(expected, actual);
        Assert.Equal(clippedObservation, observation);
    }

    [Fact]
    public void Step_RewardPenalisesTheClippedTorque()
    {
        var env = NewPendulum(0.0, 0.0);

        StepResult result = env.Step([5f], new float[3]);

        Assert.Equal(-0.001 * 2.0 * 2.0, result.Reward, 1e-7);
    }

    [Theory]
    [InlineData(Math.PI / 2, 7.9, 2f, 8.0)]
    [InlineData(-Math.PI / 2, -7.9, -2f, -8.0)]
    public void Step_ClipsAngularSpeedToMaxSpeed(double theta, double thetaDot, float torque, double clippedSpeed)
    {
        var env = NewPendulum(theta, thetaDot);
        var observation = new float[3];
        double unclipped = thetaDot + (((15.0 * Math.Sin(theta)) + (3.0 * torque)) * 0.05);

        env.Step([torque], observation);

        Assert.True(Math.Abs(unclipped) > 8.0, "the chosen state must exceed the speed limit");
        Assert.Equal((float)clippedSpeed, observation[2]);
        double newTheta = theta + (clippedSpeed * 0.05);
        Assert.Equal(Math.Cos(newTheta), observation[0], 1e-6);
        Assert.Equal(Math.Sin(newTheta), observation[1], 1e-6);
    }

    [Fact]
    public void Step_WithNaNTorque_PassesNaNThroughWithoutThrowing()
    {
        var env = NewPendulum(0.5, 0.5);
        var observation = new float[3];

        StepResult result = env.Step([float.NaN], observation);

        Assert.True(float.IsNaN(result.Reward));
        Assert.True(float.IsNaN(observation[2]));
        Assert.False(result.Terminated);
    }

    internal static (double Theta, double ThetaDot, double Reward) Reference(double theta, double thetaDot, double torque)
    {
        const double g = 10.0, m = 1.0, l = 1.0, dt = 0.05;
        double u = Math.Clamp(torque, -2.0, 2.0);
        double normalized = theta - (TwoPi * Math.Floor((theta + Math.PI) / TwoPi));
        double costs = (normalized * normalized) + (0.1 * thetaDot * thetaDot) + (0.001 * u * u);
        double newThetaDot = thetaDot + ((((3 * g) / (2 * l) * Math.Sin(theta)) + (3.0 / (m * l * l) * u)) * dt);
        newThetaDot = Math.Clamp(newThetaDot, -8.0, 8.0);
        return (theta + (newThetaDot * dt), newThetaDot, -costs);
    }

    internal static PendulumEnvironment NewPendulum(double theta, double thetaDot)
    {
        var env = new PendulumEnvironment();
        env.Reset(0, new float[3]);
        env.SetState(theta, thetaDot);
        return env;
    }
}
