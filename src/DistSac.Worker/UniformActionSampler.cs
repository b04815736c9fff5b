using System.Numerics;

namespace DistSac.Worker;

/// <summary>
/// Uniform actions in the box [low, high] for the warm-up phase (SB3's learning_starts). xoshiro256** seeded through
/// SplitMix64: seeded, allocation-free, and cheap next to an environment step.
/// </summary>
public sealed class UniformActionSampler
{
    private readonly float[] _low;
    private readonly float[] _width;
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

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

        ulong x = unchecked((ulong)seed);
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
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
            float unit = (NextUInt64() >> 40) * (1f / (1 << 24));
            actions[i] = _low[a] + (unit * _width[a]);
        }
    }

    private ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
