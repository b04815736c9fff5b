using DistSac.Envs;

namespace DistSac.Worker;

/// <summary>
/// Uniform actions in the box [low, high] for the warm-up phase (SB3's learning_starts). xoshiro256** seeded through
/// SplitMix64: seeded, allocation-free, and cheap next to an environment step.
/// </summary>
public sealed class UniformActionSampler
{
    private readonly float[] _low;
    private readonly float[] _width;
    private readonly Xoshiro256StarStar _random;

    public UniformActionSampler(float[] low, float[] high, long seed)
    {
        ArgumentNullException.ThrowIfNull(low);
        ArgumentNullException.ThrowIfNull(high);
        if (low.Length == 0 || low.Length != high.Length)
        {
            throw new ArgumentException($"Action bounds must be non-empty and of equal length (got {low.Length} and {high.Length}).", nameof(high));
        }

        _low = (float[])low.Clone();
        _width = new float[low.Length];
        for (int i = 0; i < low.Length; i++)
        {
            _width[i] = high[i] - low[i];
        }

        _random = new Xoshiro256StarStar(seed);
    }

    public int ActionSize => _low.Length;

    /// <summary>Fills whole actions ([n * ActionSize]) with independent uniform draws.</summary>
    public void Fill(Span<float> actions)
    {
        int size = _low.Length;
        if (actions.Length % size != 0)
        {
            throw new ArgumentException($"actions has {actions.Length} elements, not a multiple of the action size {size}.", nameof(actions));
        }

        for (int i = 0; i < actions.Length; i++)
        {
            int a = i % size;
            // 24 random bits give every float in [0, 1) that a float32 uniform can represent with equal spacing.
            float unit = (_random.NextUInt64() >> 40) * (1f / (1 << 24));
            actions[i] = _low[a] + (unit * _width[a]);
        }
    }
}
