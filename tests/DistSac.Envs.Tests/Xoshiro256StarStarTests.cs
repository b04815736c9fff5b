namespace DistSac.Envs.Tests;

/// <summary>Expected values from a transcription of Vigna's reference C code (splitmix64.c, xoshiro256starstar.c).</summary>
public class Xoshiro256StarStarTests
{
    [Fact]
    public void SplitMix64_FromZero_MatchesTheReferenceSequence()
    {
        ulong state = 0;

        ulong[] outputs =
        [
            Xoshiro256StarStar.SplitMix64(ref state),
            Xoshiro256StarStar.SplitMix64(ref state),
            Xoshiro256StarStar.SplitMix64(ref state),
        ];

        Assert.Equal([0xE220A8397B1DCDAFUL, 0x6E789E6AA1B965F4UL, 0x06C45D188009454FUL], outputs);
    }

    [Theory]
    [InlineData(0L, 0x99EC5F36CB75F2B4UL, 0xBF6E1F784956452AUL, 0x1A5F849D4933E6E0UL)]
    [InlineData(42L, 0x15780B2E0C2EC716UL, 0x6104D9866D113A7EUL, 0xAE17533239E499A1UL)]
    [InlineData(-1L, 0x8F5520D52A7EAD08UL, 0xC476A018CAA1802DUL, 0x81DE31C0D260469EUL)]
    public void NextUInt64_MatchesTheReferenceImplementation(long seed, ulong first, ulong second, ulong third)
    {
        var random = new Xoshiro256StarStar(seed);

        Assert.Equal(first, random.NextUInt64());
        Assert.Equal(second, random.NextUInt64());
        Assert.Equal(third, random.NextUInt64());
    }

    [Fact]
    public void Reseed_RestartsTheStream()
    {
        var random = new Xoshiro256StarStar(42);
        random.NextUInt64();

        random.Reseed(42);

        Assert.Equal(0x15780B2E0C2EC716UL, random.NextUInt64());
    }

    [Fact]
    public void NextDouble_IsInUnitIntervalWithMeanOneHalf()
    {
        var random = new Xoshiro256StarStar(7);
        const int Draws = 100_000;
        double sum = 0;

        for (int i = 0; i < Draws; i++)
        {
            double u = random.NextDouble();
            Assert.InRange(u, 0.0, Math.BitDecrement(1.0));
            sum += u;
        }

        // Standard error of the mean is sqrt(1/12 / 1e5) ~ 0.0009; allow five of them.
        Assert.Equal(0.5, sum / Draws, 0.0045);
    }
}
