namespace DistSac.Envs.NumpyRandom;

/// <summary>
/// Gymnasium's seeding.np_random: <c>Generator(PCG64(SeedSequence(seed)))</c>, and an OS-entropy seed when an
/// environment is reset without a seed before it was ever seeded.
/// </summary>
public static class GymnasiumSeeding
{
    /// <summary>
    /// The Python seed that a 64-bit seed stands for. Gymnasium refuses negative seeds, so a negative long is read as
    /// its unsigned 64-bit pattern (-1 is 2^64 - 1): every long is then a seed Gymnasium accepts, and seeds 0 to 2^63-1
    /// are the same number in both.
    /// </summary>
    public static ulong ToPythonSeed(long seed) => unchecked((ulong)seed);

    /// <summary>np_random(seed).</summary>
    public static Pcg64 NpRandom(long seed) => new(ToPythonSeed(seed));

    /// <summary>np_random(None).</summary>
    public static Pcg64 NpRandomFromEntropy() => new(SeedSequence.FromOperatingSystemEntropy());
}
