namespace DistSac.Envs.Tests;

/// <summary>
/// Bit-exact agreement with Gymnasium: the expected float32 values come from Reference/gymnasium_reference.py, a
/// line-for-line transcription of Gymnasium's step() run under NumPy 2 promotion. Each rollout has a step whose
/// last bit differs under NumPy 1 promotion, so these also pin the float32 intermediate arithmetic.
/// </summary>
public class GymnasiumReferenceTests
{
    [Fact]
    public void Pendulum_MatchesGymnasiumBitForBit_FromAModerateState()
    {
        float[] actions = [0.3f, 5.0f, -1.7f, 2.0f, -2.0f, 0.1f];
        float[][] observations =
        [
            [0.53287214f, 0.84619576f, 0.17610323f],
            [0.48507914f, 0.87447023f, 1.1107501f],
            [0.41766465f, 0.9086013f, 1.5116028f],
            [0.30145743f, 0.95347965f, 2.4930537f],
            [0.16012044f, 0.9870975f, 2.9081633f],
            [-0.02235979f, 0.99975f, 3.6634865f],
        ];
        float[] rewards = [-1.02509f, -1.0247891f, -1.2590919f, -1.5319183f, -2.2246828f, -2.8338053f];

        AssertRollout(PendulumDynamicsTests.NewPendulum(1.0, -0.5), actions, observations, rewards, new bool[6]);
    }

    [Fact]
    public void Pendulum_MatchesGymnasiumBitForBit_AtTheSpeedLimit()
    {
        float[] actions = [1.9f, 2.0f, 2.0f];
        float[][] observations =
        [
            [-0.99913514f, -0.041580662f, 8.0f],
            [-0.90407217f, -0.42737988f, 8.0f],
            [-0.6670413f, -0.74502075f, 7.979465f],
        ];
        float[] rewards = [-13.99073f, -16.014f, -13.694f];

        AssertRollout(PendulumDynamicsTests.NewPendulum(-3.5, 7.9), actions, observations, rewards, new bool[3]);
    }

    [Fact]
    public void MountainCar_MatchesGymnasiumBitForBit_FromTheFloat64ResetState()
    {
        // Gymnasium keeps the reset state in float64, so the first step starts from the unrounded position.
        var env = new MountainCarContinuousEnvironment();
        env.Reset(0, new float[2]);
        env.SetResetState(-0.5234);
        float[] actions = [1.0f, 0.7f, -1.0f, 2.5f, 0.3f, -0.2f];
        float[][] observations =
        [
            [-0.5219015f, 0.0014985092f],
            [-0.5193657f, 0.0025357795f],
            [-0.5183617f, 0.0010040323f],
            [-0.5158969f, 0.002464756f],
            [-0.51303995f, 0.002856997f],
            [-0.5105621f, 0.002477819f],
        ];
        float[] rewards = [-0.1f, -0.049f, -0.1f, -0.625f, -0.009000001f, -0.004f];

        AssertRollout(env, actions, observations, rewards, new bool[6]);
    }

    [Fact]
    public void MountainCar_MatchesGymnasiumBitForBit_AtTheGoal()
    {
        float[] actions = [0.25f, -1.0f, 0.1f];
        float[][] observations =
        [
            [0.45975456f, 0.01975456f],
            [0.47753322f, 0.017778652f],
            [0.4951175f, 0.017584259f],
        ];
        float[] rewards = [99.99375f, 99.9f, 99.999f];

        AssertRollout(
            MountainCarContinuousDynamicsTests.NewCar(0.44f, 0.02f), actions, observations, rewards, [true, true, true]);
    }

    private static void AssertRollout(
        IEnvironment env, float[] actions, float[][] observations, float[] rewards, bool[] terminated)
    {
        var observation = new float[observations[0].Length];
        for (int step = 0; step < actions.Length; step++)
        {
            StepResult result = env.Step([actions[step]], observation);

            Assert.Equal(observations[step], observation);
            Assert.Equal(rewards[step], result.Reward);
            Assert.Equal(terminated[step], result.Terminated);
        }
    }
}
