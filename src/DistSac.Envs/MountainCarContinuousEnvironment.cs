using DistSac.Envs.NumpyRandom;

namespace DistSac.Envs;

/// <summary>
/// Gymnasium's MountainCarContinuous-v0 (classic_control/continuous_mountain_car.py) under TimeLimit(999).
/// </summary>
/// <remarks>
/// Gymnasium's state changes precision: reset stores float64 (np.array([uniform, 0])), step stores float32.
/// With NumPy 2 promotion (NEP 50) a float32 scalar combined with a Python float stays float32, including in
/// comparisons, so which operations round to float32 depends on where each value came from. Each local below
/// carries that provenance as an "IsSingle" flag so the rounding matches Gymnasium's bit for bit.
/// </remarks>
public sealed class MountainCarContinuousEnvironment : IEnvironment
{
    private const double MinAction = -1.0;
    private const double MaxAction = 1.0;
    private const double MinPosition = -1.2;
    private const double MaxPosition = 0.6;
    private const double MaxSpeed = 0.07;
    private const double GoalPosition = 0.45;
    private const double GoalVelocity = 0.0;
    private const double Power = 0.0015;

    // Gymnasium's np_random: Generator(PCG64(SeedSequence(seed))), so reset(seed) matches Python bit for bit.
    private readonly Pcg64 _random;
    private EpisodeClock _clock;
    private double _position;
    private double _velocity;
    private bool _stateIsSingle;

    public MountainCarContinuousEnvironment()
    {
        // Gymnasium draws an OS-entropy seed when reset(seed=None) comes before any seed.
        _random = GymnasiumSeeding.NpRandomFromEntropy();
        _clock = new EpisodeClock(DefaultSpec.MaxEpisodeSteps);
    }

    public static EnvSpec DefaultSpec { get; } = new(
        Id: "MountainCarContinuous-v0",
        ObservationSize: 2,
        ActionSize: 1,
        ObservationLow: [(float)MinPosition, (float)-MaxSpeed],
        ObservationHigh: [(float)MaxPosition, (float)MaxSpeed],
        ActionLow: [(float)MinAction],
        ActionHigh: [(float)MaxAction],
        MaxEpisodeSteps: 999,
        // reward = 100 on reaching the goal, minus 0.1 a^2 of the unclipped action: [-0.1, 100] for a in [-1, 1].
        RewardLow: (float)(-0.1 * MaxAction * MaxAction),
        RewardHigh: 100f);

    public EnvSpec Spec => DefaultSpec;

    public void Reset(long? seed, Span<float> observation)
    {
        ArgumentLength.Require(observation.Length, 2, nameof(observation));
        if (seed is long value)
        {
            _random.Reseed(GymnasiumSeeding.ToPythonSeed(value));
        }

        _position = _random.Uniform(-0.6, -0.4);
        _velocity = 0.0;
        _stateIsSingle = false;
        _clock.Restart();
        WriteObservation(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        ArgumentLength.Require(action.Length, 1, nameof(action));
        ArgumentLength.Require(observation.Length, 2, nameof(observation));
        bool truncated = _clock.Tick();

        float a = action[0];
        bool stateIsSingle = _stateIsSingle;

        // force = min(max(a, -1.0), 1.0): Python keeps the first argument unless the second is strictly
        // better, so an in-range (or NaN) action stays float32 and a clipped one becomes a Python float.
        double force = a;
        bool forceIsSingle = true;
        if (MinAction > a)
        {
            force = MinAction;
            forceIsSingle = false;
        }

        if (MaxAction < force)
        {
            force = MaxAction;
            forceIsSingle = false;
        }

        // 3 * position is float32 when position is; math.cos then works in double.
        double cosineArgument = stateIsSingle ? 3f * (float)_position : 3.0 * _position;
        double gravity = 0.0025 * Math.Cos(cosineArgument);
        double acceleration = forceIsSingle
            ? ((float)force * (float)Power) - (float)gravity
            : (force * Power) - gravity;

        double velocity = stateIsSingle ? (float)_velocity + (float)acceleration : _velocity + acceleration;
        bool velocityIsSingle = stateIsSingle;
        if (GreaterThan(velocity, MaxSpeed, velocityIsSingle))
        {
            velocity = MaxSpeed;
            velocityIsSingle = false;
        }

        if (LessThan(velocity, -MaxSpeed, velocityIsSingle))
        {
            velocity = -MaxSpeed;
            velocityIsSingle = false;
        }

        double position = stateIsSingle ? (float)_position + (float)velocity : _position + velocity;
        bool positionIsSingle = stateIsSingle;
        if (GreaterThan(position, MaxPosition, positionIsSingle))
        {
            position = MaxPosition;
            positionIsSingle = false;
        }

        if (LessThan(position, MinPosition, positionIsSingle))
        {
            position = MinPosition;
            positionIsSingle = false;
        }

        // Inelastic left wall.
        bool atLeftWall = positionIsSingle ? (float)position == (float)MinPosition : position == MinPosition;
        if (atLeftWall && velocity < 0)
        {
            velocity = 0.0;
        }

        bool terminated = AtLeast(position, GoalPosition, positionIsSingle) && velocity >= GoalVelocity;
        double reward = terminated ? 100.0 : 0.0;

        // The action cost uses the unclipped action (math.pow(action[0], 2) * 0.1), unlike the force.
        reward -= (double)a * a * 0.1;

        _position = (float)position;
        _velocity = (float)velocity;
        _stateIsSingle = true;
        WriteObservation(observation);
        return new StepResult((float)reward, terminated, truncated);
    }

    /// <summary>Sets the state as Gymnasium holds it after a step (float32); keeps the episode clock. For tests.</summary>
    internal void SetState(float position, float velocity)
    {
        _position = position;
        _velocity = velocity;
        _stateIsSingle = true;
    }

    /// <summary>Sets the state as Gymnasium holds it after reset (float64, velocity 0). For tests.</summary>
    internal void SetResetState(double position)
    {
        _position = position;
        _velocity = 0.0;
        _stateIsSingle = false;
    }

    private static bool GreaterThan(double value, double bound, bool valueIsSingle) =>
        valueIsSingle ? (float)value > (float)bound : value > bound;

    private static bool LessThan(double value, double bound, bool valueIsSingle) =>
        valueIsSingle ? (float)value < (float)bound : value < bound;

    private static bool AtLeast(double value, double bound, bool valueIsSingle) =>
        valueIsSingle ? (float)value >= (float)bound : value >= bound;

    private void WriteObservation(Span<float> observation)
    {
        observation[0] = (float)_position;
        observation[1] = (float)_velocity;
    }
}
