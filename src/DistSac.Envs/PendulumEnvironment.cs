using DistSac.Envs.NumpyRandom;

namespace DistSac.Envs;

/// <summary>
/// Gymnasium's Pendulum-v1 (classic_control/pendulum.py) under TimeLimit(200), step for step.
/// The state (theta, theta dot) is float64 as in Gymnasium; observations are float32.
/// </summary>
/// <remarks>
/// Arithmetic follows NumPy 2 promotion (NEP 50): the clipped torque u is a numpy float32 scalar, so
/// <c>0.001 * u**2</c> and <c>3.0 * u</c> are float32 products there, and are float32 products here too.
/// </remarks>
public sealed class PendulumEnvironment : IEnvironment
{
    private const double MaxSpeed = 8.0;
    private const float MaxTorque = 2.0f;
    private const double Dt = 0.05;
    private const double Gravity = 10.0;
    private const double Mass = 1.0;
    private const double Length = 1.0;
    private const double GravityCoefficient = 3 * Gravity / (2 * Length);   // 15.0, a Python float
    private const float TorqueCoefficient = (float)(3.0 / (Mass * Length * Length)); // 3.0, meets a float32 u

    /// <summary>
    /// The largest cost of one step: angle_normalize(th)^2 &lt;= pi^2, 0.1 thdot^2 &lt;= 0.1 * 8^2 (thdot is clipped, and
    /// reset draws it in [-1, 1]), 0.001 u^2 &lt;= 0.001 * 2^2 (u is clipped): 16.2736044..., so rewards lie in [-16.27, 0].
    /// </summary>
    internal const double MaxCost = (Math.PI * Math.PI) + (0.1 * MaxSpeed * MaxSpeed) + (0.001 * MaxTorque * MaxTorque);

    // Gymnasium's np_random: Generator(PCG64(SeedSequence(seed))), so reset(seed) matches Python bit for bit.
    private readonly Pcg64 _random;
    private EpisodeClock _clock;
    private double _theta;
    private double _thetaDot;

    public PendulumEnvironment()
    {
        // Gymnasium draws an OS-entropy seed when reset(seed=None) comes before any seed.
        _random = GymnasiumSeeding.NpRandomFromEntropy();
        _clock = new EpisodeClock(DefaultSpec.MaxEpisodeSteps);
    }

    public static EnvSpec DefaultSpec { get; } = new(
        Id: "Pendulum-v1",
        ObservationSize: 3,
        ActionSize: 1,
        ObservationLow: [-1f, -1f, -8f],
        ObservationHigh: [1f, 1f, 8f],
        ActionLow: [-MaxTorque],
        ActionHigh: [MaxTorque],
        MaxEpisodeSteps: 200,
        RewardLow: (float)-MaxCost,
        RewardHigh: 0f);

    public EnvSpec Spec => DefaultSpec;

    public void Reset(long? seed, Span<float> observation)
    {
        ArgumentLength.Require(observation.Length, 3, nameof(observation));
        if (seed is long value)
        {
            _random.Reseed(GymnasiumSeeding.ToPythonSeed(value));
        }

        // np_random.uniform(low=[-pi, -1], high=[pi, 1]) draws theta first, then theta dot.
        _theta = _random.Uniform(-Math.PI, Math.PI);
        _thetaDot = _random.Uniform(-1.0, 1.0);
        _clock.Restart();
        WriteObservation(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        ArgumentLength.Require(action.Length, 1, nameof(action));
        ArgumentLength.Require(observation.Length, 3, nameof(observation));
        bool truncated = _clock.Tick();

        float u = ClipTorque(action[0]);
        double th = _theta;
        double thdot = _thetaDot;

        double normalized = AngleNormalize(th);
        float torqueCost = 0.001f * (u * u);
        double costs = (normalized * normalized) + (0.1 * (thdot * thdot)) + torqueCost;

        float torqueTerm = TorqueCoefficient * u;
        double newThetaDot = thdot + (((GravityCoefficient * Math.Sin(th)) + torqueTerm) * Dt);
        newThetaDot = ClipSpeed(newThetaDot);
        double newTheta = th + (newThetaDot * Dt);

        _theta = newTheta;
        _thetaDot = newThetaDot;
        WriteObservation(observation);
        return new StepResult((float)-costs, Terminated: false, Truncated: truncated);
    }

    /// <summary>
    /// ((x + pi) % (2 pi)) - pi with numpy's floored modulo: the remainder takes the divisor's sign, so the
    /// result lies in [-pi, pi) for negative x too (C#'s % truncates and would give values below -pi).
    /// </summary>
    internal static double AngleNormalize(double x) => FlooredModulo(x + Math.PI, 2 * Math.PI) - Math.PI;

    /// <summary>Sets the physical state directly, keeping the episode clock; for tests.</summary>
    internal void SetState(double theta, double thetaDot)
    {
        _theta = theta;
        _thetaDot = thetaDot;
    }

    // npy_divmod / Python float_rem: fmod, then shift by the divisor when the signs differ.
    private static double FlooredModulo(double a, double b)
    {
        double mod = a % b;
        if (mod != 0)
        {
            if ((b < 0) != (mod < 0))
            {
                mod += b;
            }
        }
        else
        {
            mod = Math.CopySign(0.0, b);
        }

        return mod;
    }

    // np.clip lets NaN through; comparisons written out so that stays true.
    private static float ClipTorque(float u) => u < -MaxTorque ? -MaxTorque : u > MaxTorque ? MaxTorque : u;

    private static double ClipSpeed(double v) => v < -MaxSpeed ? -MaxSpeed : v > MaxSpeed ? MaxSpeed : v;

    private void WriteObservation(Span<float> observation)
    {
        observation[0] = (float)Math.Cos(_theta);
        observation[1] = (float)Math.Sin(_theta);
        observation[2] = (float)_thetaDot;
    }
}
