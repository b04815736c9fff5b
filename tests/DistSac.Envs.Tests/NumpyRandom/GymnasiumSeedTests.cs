using DistSac.Envs.NumpyRandom;

namespace DistSac.Envs.Tests.NumpyRandom;

/// <summary>
/// Seeded resets against Gymnasium: the expected observations were computed with numpy 1.24 exactly as Gymnasium
/// resets (np_random = Generator(PCG64(SeedSequence(seed))); Pendulum-v1: state = np_random.uniform(low=-high,
/// high=high) with high = [pi, 1], obs = float32 [cos, sin, thdot]; MountainCarContinuous-v0: state =
/// [np_random.uniform(-0.6, -0.4), 0]). The second observation is reset(seed=None) continuing the same np_random.
/// Seed -1 stands for Gymnasium's seed 2^64 - 1 (GymnasiumSeeding.ToPythonSeed).
/// </summary>
public class GymnasiumSeedTests
{
    [Theory]
    [InlineData(0L, new[] { 0.6520163f, 0.758205f, -0.46042657f }, new[] { -0.9670439f, -0.25460985f, -0.96694475f })]
    [InlineData(1L, new[] { 0.9972427f, 0.074209176f, 0.90092736f }, new[] { -0.61707073f, -0.7869077f, 0.8972989f })]
    [InlineData(42L, new[] { -0.14995256f, 0.9886932f, -0.12224312f }, new[] { -0.6306115f, 0.77609867f, 0.39473605f })]
    [InlineData(12345L, new[] { -0.14192118f, -0.98987794f, -0.36648333f }, new[] { -0.29323223f, 0.9560412f, 0.35250935f })]
    [InlineData(9223372036854775807L, new[] { -0.45137903f, -0.8923323f, -0.060142696f }, new[] { -0.45420012f, 0.8908997f, -0.39013472f })]
    [InlineData(-1L, new[] { 0.42562762f, 0.9048984f, 0.6906235f }, new[] { -0.99891835f, -0.04649816f, 0.78913623f })]
    public void Pendulum_SeededResetThenUnseededReset_MatchGymnasium(long seed, float[] first, float[] second)
    {
        var env = new PendulumEnvironment();
        var observation = new float[3];

        env.Reset(seed, observation);
        float[] seeded = observation.ToArray();
        env.Reset(null, observation);

        Assert.Equal(first, seeded);
        Assert.Equal(second, observation);
    }

    [Theory]
    [InlineData(0L, -0.47260767f, -0.5460427f)]
    [InlineData(1L, -0.49763566f, -0.40990725f)]
    [InlineData(42L, -0.4452088f, -0.5122243f)]
    [InlineData(12345L, -0.55453277f, -0.53664833f)]
    [InlineData(9223372036854775807L, -0.5649068f, -0.5060143f)]
    [InlineData(-1L, -0.46399465f, -0.43093765f)]
    public void MountainCar_SeededResetThenUnseededReset_MatchGymnasium(long seed, float first, float second)
    {
        var env = new MountainCarContinuousEnvironment();
        var observation = new float[2];

        env.Reset(seed, observation);
        float[] seeded = observation.ToArray();
        env.Reset(null, observation);

        Assert.Equal([first, 0f], seeded);
        Assert.Equal([second, 0f], observation);
    }

    [Fact]
    public void SeedingAgain_RestartsTheStreamAfterSteps()
    {
        var env = new PendulumEnvironment();
        var observation = new float[3];
        env.Reset(42, observation);
        env.Step([1f], observation);
        env.Reset(null, observation);

        env.Reset(42, observation);

        Assert.Equal([-0.14995256f, 0.9886932f, -0.12224312f], observation);
    }

    [Fact]
    public void NegativeSeeds_AreTheirUnsignedBitPattern()
    {
        Assert.Equal(ulong.MaxValue, GymnasiumSeeding.ToPythonSeed(-1));
        Assert.Equal(1UL << 63, GymnasiumSeeding.ToPythonSeed(long.MinValue));
        Assert.Equal(12345UL, GymnasiumSeeding.ToPythonSeed(12345));
    }

    [Fact]
    public void UnseededEnvironments_DrawDifferentEntropy()
    {
        var first = GymnasiumSeeding.NpRandomFromEntropy();
        var second = GymnasiumSeeding.NpRandomFromEntropy();

        Assert.NotEqual(first.State, second.State);
    }
}
