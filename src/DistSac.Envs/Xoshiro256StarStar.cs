using System.Numerics;

namespace DistSac.Envs;

/// <summary>
/// xoshiro256** (Blackman and Vigna, 2018) seeded through SplitMix64, as its authors recommend.
/// The environments' np_random must be numpy's PCG64 (NumpyRandom/Pcg64.cs) to match Gymnasium's seeds; the worker's
/// own streams (exploration noise in DistSac.Policy, warm-up actions) only need a fast, statistically sound generator
/// with one fixed stream per seed, and use this one. Not thread-safe.
/// </summary>
public sealed class Xoshiro256StarStar
{
    private const double DoubleUnit = 1.0 / (1UL << 53);

    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public Xoshiro256StarStar(long seed) => Reseed(seed);

    public void Reseed(long seed)
    {
        ulong x = unchecked((ulong)seed);
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    public ulong NextUInt64()
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

    /// <summary>Uniform on [0, 1) with 53 random bits, like numpy's random_standard_uniform.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * DoubleUnit;

    /// <summary>low + (high - low) * U[0, 1), the formula of numpy's Generator.uniform.</summary>
    public double Uniform(double low, double high) => low + ((high - low) * NextDouble());

    internal static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
