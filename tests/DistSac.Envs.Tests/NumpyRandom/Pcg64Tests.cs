using DistSac.Envs.NumpyRandom;

namespace DistSac.Envs.Tests.NumpyRandom;

/// <summary>
/// Expected states and outputs from numpy 1.24's numpy.random.PCG64 (bit_generator.state, random_raw). The seed
/// 0xdeadbeaf is the one of numpy's own vector file numpy/random/tests/data/pcg64-testset-1.csv, and
/// default_rng(42).random() = 0.7739560485559633 is the value printed in numpy's documentation.
/// </summary>
public class Pcg64Tests
{
    [Theory]
    [InlineData(0UL, 0x1AA1B5345996452DUL, 0x09585EB7A69561E3UL, 0x418DDADB3AF71A82UL, 0x588133BC447873A9UL)]
    [InlineData(0xDEADBEAFUL, 0xDCBF51ECA8A06D6DUL, 0xA11C0E6F95BE4591UL, 0x6F01E045569D93C4UL, 0x40AC10DD049310B5UL)]
    [InlineData(ulong.MaxValue, 0xDDC419442AEBDE79UL, 0x4D8B0A3B048ACDB0UL, 0x37762AACB3CC854FUL, 0x4ED623C7D18951EDUL)]
    public void StateAfterSeeding_MatchesNumpy(ulong seed, ulong stateHigh, ulong stateLow, ulong incHigh, ulong incLow)
    {
        var generator = new Pcg64(seed);

        Assert.Equal(new UInt128(stateHigh, stateLow), generator.State);
        Assert.Equal(new UInt128(incHigh, incLow), generator.Increment);
    }

    [Theory]
    [InlineData(0UL, 0xA30FEBCFD9C2825FUL, 0x4510BDF882D9D721UL, 0x0A7D3DA94ECDE8B8UL)]
    [InlineData(0xDEADBEAFUL, 0x60D24054E17A0698UL, 0xD5E79D89856E4F12UL, 0xD254972FE64BD782UL)]
    [InlineData(42UL, 0xC621FBCD16D92688UL, 0x705A5661A791FFC1UL, 0xDBCD12C26EDA1624UL)]
    [InlineData(ulong.MaxValue, 0xAE163A7A8C47568FUL, 0xD86659F5F3382359UL, 0x01E52B195BC2D24AUL)]
    public void RandomRaw_MatchesNumpy(ulong seed, ulong first, ulong second, ulong third)
    {
        var generator = new Pcg64(seed);

        Assert.Equal([first, second, third], new[] { generator.NextUInt64(), generator.NextUInt64(), generator.NextUInt64() });
    }

    [Fact]
    public void NextDouble_MatchesNumpyGeneratorRandom()
    {
        var generator = new Pcg64(42UL);

        Assert.Equal(0.7739560485559633, generator.NextDouble());
        Assert.Equal(0.4388784397520523, generator.NextDouble());
        Assert.Equal(0.8585979199113825, generator.NextDouble());
    }

    [Fact]
    public void Uniform_MatchesNumpyGeneratorUniform()
    {
        // np.random.Generator(np.random.PCG64(7)).uniform(-0.6, -0.4)
        Assert.Equal(-0.4749809066790666, new Pcg64(7UL).Uniform(-0.6, -0.4));
    }

    [Fact]
    public void Step_IsTheLcgWithNumpysMultiplier()
    {
        // Independent check of the recurrence: after SetSeed(s, q) the state is (inc + s) * M + inc, inc = 2q + 1.
        var generator = new Pcg64(0UL);
        var initial = new UInt128(0x0123456789ABCDEFUL, 0xFEDCBA9876543210UL);
        var sequence = new UInt128(0, 54);
        UInt128 increment = (sequence * 2) + 1;
        UInt128 multiplier = UInt128.Parse("47026247687942121848144207491837523525", System.Globalization.CultureInfo.InvariantCulture);

        generator.SetSeed(initial, sequence);

        Assert.Equal(increment, generator.Increment);
        Assert.Equal(unchecked(((increment + initial) * multiplier) + increment), generator.State);
    }

    [Fact]
    public void NextDouble_IsTheTop53BitsTimes2ToTheMinus53()
    {
        var raw = new Pcg64(2024UL);
        var doubles = new Pcg64(2024UL);
        for (int i = 0; i < 10_000; i++)
        {
            ulong bits = raw.NextUInt64();
            double value = doubles.NextDouble();

            Assert.InRange(value, 0.0, Math.BitDecrement(1.0));
            Assert.Equal(bits >> 11, (ulong)(value * 9007199254740992.0));   // exact: value has at most 53 bits
        }
    }

    [Fact]
    public void Uniform_IsLowPlusRangeTimesNextDouble_AndStaysInsideItsBounds()
    {
        var uniform = new Pcg64(99UL);
        var doubles = new Pcg64(99UL);
        for (int i = 0; i < 10_000; i++)
        {
            double value = uniform.Uniform(-Math.PI, Math.PI);

            Assert.Equal(-Math.PI + ((Math.PI - -Math.PI) * doubles.NextDouble()), value);
            Assert.InRange(value, -Math.PI, Math.PI);
        }
    }

    [Fact]
    public void Reseed_RestartsTheStream()
    {
        var generator = new Pcg64(0xDEADBEAFUL);
        generator.NextUInt64();
        generator.NextUInt64();

        generator.Reseed(0xDEADBEAFUL);

        Assert.Equal(0x60D24054E17A0698UL, generator.NextUInt64());
    }
}
