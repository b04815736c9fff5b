using System.Numerics;

namespace DistSac.Policy;

/// <summary>
/// Seeded standard-normal generator for exploration noise: xoshiro256** for uniforms (fast, 256-bit state,
/// passes BigCrush) and the Marsaglia polar method for normals (no trigonometry). The stream depends only on the
/// seed and the number of values drawn, not on how draws are split across <see cref="Fill"/> calls, so a worker
/// replays exactly given its seed. Not thread-safe.
/// </summary>
public sealed class GaussianNoise
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;
    private float _spare;
    private bool _hasSpare;

    public GaussianNoise(long seed)
    {
        // SplitMix64 expands the seed as the xoshiro authors recommend; it never yields the all-zero state
        // for four consecutive outputs, which xoshiro could not leave.
        ulong x = (ulong)seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    public void Fill(Span<float> destination)
    {
        int i = 0;
        if (_hasSpare && destination.Length > 0)
        {
            destination[i++] = _spare;
            _hasSpare = false;
        }

        while (i < destination.Length)
        {
            (float first, float second) = NextPair();
            destination[i++] = first;
            if (i < destination.Length)
            {
                destination[i++] = second;
            }
            else
            {
                _spare = second;
                _hasSpare = true;
            }
        }
    }

    private (float First, float Second) NextPair()
    {
        while (true)
        {
            // Doubles from the top 53 bits: the polar method's log of a tiny s needs more than float precision.
            double u = (NextUInt64() >> 11) * (2.0 / (1UL << 53)) - 1.0;
            double v = (NextUInt64() >> 11) * (2.0 / (1UL << 53)) - 1.0;
            double s = (u * u) + (v * v);
            if (s < 1.0 && s > 0.0)
            {
                double factor = Math.Sqrt(-2.0 * Math.Log(s) / s);
                return ((float)(u * factor), (float)(v * factor));
            }
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
