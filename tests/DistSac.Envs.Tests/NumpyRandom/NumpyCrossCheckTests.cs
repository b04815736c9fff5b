using System.Globalization;
using System.Text;

namespace DistSac.Envs.Tests.NumpyRandom;

/// <summary>
/// Seeded resets of both environments against numpy itself for many seeds across the 64-bit range, computed as
/// Gymnasium resets (see GymnasiumSeedTests), compared as float32 bit patterns.
/// </summary>
public class NumpyCrossCheckTests
{
    private const int ResetsPerSeed = 3;

    private const string Script = """
        import sys
        import numpy as np
        for line in sys.stdin.read().split():
            seed = int(line)
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
            out = []
            for _ in range(3):
                high = np.array([np.pi, 1.0])
                th, thdot = rng.uniform(low=-high, high=high)
                out += list(np.array([np.cos(th), np.sin(th), thdot], dtype=np.float32).view(np.uint32))
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
            for _ in range(3):
                out += list(np.array([rng.uniform(low=-0.6, high=-0.4), 0], dtype=np.float32).view(np.uint32))
            print(" ".join("%08x" % v for v in out))
        """;

    [NumpyFact]
    public void SeededResets_MatchNumpyBitForBit_AcrossTheSeedRange()
    {
        long[] seeds = Seeds();
        var input = new StringBuilder();
        foreach (long seed in seeds)
        {
            input.Append(unchecked((ulong)seed).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        string[] lines = NumpyPython.Run(Script, input.ToString()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(seeds.Length, lines.Length);
        for (int i = 0; i < seeds.Length; i++)
        {
            Assert.Equal(lines[i], OurResets(seeds[i]));
        }
    }

    private static string OurResets(long seed)
    {
        var words = new List<string>();
        var pendulum = new PendulumEnvironment();
        var observation = new float[3];
        for (int reset = 0; reset < ResetsPerSeed; reset++)
        {
            pendulum.Reset(reset == 0 ? seed : null, observation);
            AppendBits(words, observation);
        }

        var car = new MountainCarContinuousEnvironment();
        var position = new float[2];
        for (int reset = 0; reset < ResetsPerSeed; reset++)
        {
            car.Reset(reset == 0 ? seed : null, position);
            AppendBits(words, position);
        }

        return string.Join(' ', words);
    }

    private static void AppendBits(List<string> words, float[] values)
    {
        foreach (float value in values)
        {
            words.Add(BitConverter.SingleToUInt32Bits(value).ToString("x8", CultureInfo.InvariantCulture));
        }
    }

    private static long[] Seeds()
    {
        // Small seeds, the 32-bit boundary (one or two entropy words), the sign boundary, and a spread of 64-bit values.
        var seeds = new List<long> { 0, 1, 2, 7, 42, 12345, uint.MaxValue, 1L << 32, long.MaxValue, long.MinValue, -1 };
        ulong x = 0x5EED;
        for (int i = 0; i < 200; i++)
        {
            seeds.Add(unchecked((long)Xoshiro256StarStar.SplitMix64(ref x)));
        }

        return [.. seeds];
    }
}
