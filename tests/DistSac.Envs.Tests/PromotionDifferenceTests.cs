using Xunit.Abstractions;

namespace DistSac.Envs.Tests;

/// <summary>
/// How much NumPy's promotion rules matter for Pendulum-v1 over a whole 200-step episode: PendulumEnvironment
/// (NumPy 2 / NEP 50: 0.001 * u**2 and 3.0 * u are float32 products) against a float64 twin that follows NumPy 1's
/// legacy promotion (a float32 scalar meeting a Python float becomes float64; checked with numpy 1.24, where
/// type(0.001 * u**2) is float64 under the default rules and float32 under np._set_promotion_state("weak")).
/// The numbers printed here are the ones in docs/environments.md.
/// </summary>
public class PromotionDifferenceTests(ITestOutputHelper output)
{
    private const int Episodes = 20;
    private const int Steps = 200;

    [Fact]
    public void NumpyOneAndNumpyTwoPromotion_DifferBySmallAmountsOverAnEpisode()
    {
        double maxObservationDifference = 0;
        double maxReturnDifference = 0;
        int stepsWithDifferentReward = 0;
        var actions = new Xoshiro256StarStar(2024);
        for (int episode = 0; episode < Episodes; episode++)
        {
            var env = new PendulumEnvironment();
            var observation = new float[3];
            env.Reset(episode, observation);
            // The twin starts from the environment's float64 state, not from the rounded observation.
            (double theta, double thetaDot) = StateOf(episode);
            double returnNumpy2 = 0;
            double returnNumpy1 = 0;
            for (int step = 0; step < Steps; step++)
            {
                float action = (float)((actions.NextDouble() * 5.0) - 2.5);
                StepResult result = env.Step([action], observation);
                (theta, thetaDot, double reward) = NumpyOneStep(theta, thetaDot, action);

                returnNumpy2 += result.Reward;
                returnNumpy1 += (float)reward;
                stepsWithDifferentReward += result.Reward != (float)reward ? 1 : 0;
                maxObservationDifference = Math.Max(maxObservationDifference, Math.Abs(observation[0] - (float)Math.Cos(theta)));
                maxObservationDifference = Math.Max(maxObservationDifference, Math.Abs(observation[1] - (float)Math.Sin(theta)));
                maxObservationDifference = Math.Max(maxObservationDifference, Math.Abs(observation[2] - (float)thetaDot));
            }

            maxReturnDifference = Math.Max(maxReturnDifference, Math.Abs(returnNumpy2 - returnNumpy1));
        }

        output.WriteLine($"{Episodes} episodes x {Steps} steps, uniform actions in [-2.5, 2.5]:");
        output.WriteLine($"  largest |observation difference| {maxObservationDifference:G3}");
        output.WriteLine($"  largest |episode return difference| {maxReturnDifference:G3}");
        output.WriteLine($"  steps whose float32 reward differs: {stepsWithDifferentReward} of {Episodes * Steps}");

        // The rules do change results (so matching Gymnasium bit for bit needs the right ones) ...
        Assert.True(stepsWithDifferentReward > 0, "NumPy 1 and NumPy 2 promotion gave identical rewards on every step");
        // ... but far below anything learning could notice.
        Assert.True(maxObservationDifference < 1e-4, $"observations differ by {maxObservationDifference}");
        Assert.True(maxReturnDifference < 1e-2, $"returns differ by {maxReturnDifference}");
    }

    /// <summary>Gymnasium's pendulum step with every product in float64, as NumPy 1 evaluates it.</summary>
    private static (double Theta, double ThetaDot, double Reward) NumpyOneStep(double theta, double thetaDot, float action)
    {
        double u = Math.Clamp(action, -2.0f, 2.0f);
        double normalized = PendulumEnvironment.AngleNormalize(theta);
        double costs = (normalized * normalized) + (0.1 * (thetaDot * thetaDot)) + (0.001 * (u * u));
        double newThetaDot = thetaDot + (((15.0 * Math.Sin(theta)) + (3.0 * u)) * 0.05);
        newThetaDot = Math.Clamp(newThetaDot, -8.0, 8.0);
        return (theta + (newThetaDot * 0.05), newThetaDot, -costs);
    }

    private static (double Theta, double ThetaDot) StateOf(long seed)
    {
        var random = DistSac.Envs.NumpyRandom.GymnasiumSeeding.NpRandom(seed);
        return (random.Uniform(-Math.PI, Math.PI), random.Uniform(-1.0, 1.0));
    }
}
