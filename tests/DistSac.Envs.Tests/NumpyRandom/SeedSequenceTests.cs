using DistSac.Envs.NumpyRandom;

namespace DistSac.Envs.Tests.NumpyRandom;

/// <summary>
/// Expected words from numpy 1.24's numpy.random.SeedSequence (pool, generate_state); the algorithm has been
/// stream-stable since numpy 1.17, so NumPy 2 gives the same words.
/// </summary>
public class SeedSequenceTests
{
    [Theory]
    [InlineData(0UL, new[] { 0xFE40EB07U, 0x4F363A36U, 0x4EB2009DU, 0xC89A7AA7U })]
    [InlineData(12345UL, new[] { 0xF293D734U, 0xFD668225U, 0xF94FF895U, 0x872090A0U })]
    [InlineData(ulong.MaxValue, new[] { 0xFAF3ECF4U, 0xFA0F8930U, 0xE9F89A67U, 0x0E23D1F9U })]
    public void Pool_MatchesNumpy(ulong seed, uint[] expected)
    {
        var sequence = new SeedSequence(seed);

        Assert.Equal(expected, sequence.Pool.ToArray());
    }

    [Theory]
    [InlineData(0UL, new[] { 0xB0F478BEU, 0xDB2CD7E7U, 0x2C71BA49U, 0xABF4641AU })]
    [InlineData(12345UL, new[] { 0xA03D837CU, 0xB5AE6482U, 0xFA1F7A2FU, 0xBBE2996FU })]
    [InlineData(ulong.MaxValue, new[] { 0x928CAD0DU, 0xAEBCA151U, 0x8638DC7AU, 0x119C3044U })]
    public void GenerateState_Uint32_MatchesNumpy(ulong seed, uint[] expected)
    {
        var state = new uint[4];

        new SeedSequence(seed).GenerateState(state);

        Assert.Equal(expected, state);
    }

    [Theory]
    [InlineData(0UL, new[] { 0xDB2CD7E7B0F478BEUL, 0xABF4641A2C71BA49UL, 0x20C6ED6D9D7B8D41UL, 0x2C4099DE223C39D4UL })]
    [InlineData(12345UL, new[] { 0xB5AE6482A03D837CUL, 0xBBE2996FFA1F7A2FUL, 0x64E39A9F37158F94UL, 0x3EBB0F96A013FD73UL })]
    public void GenerateState_Uint64_MatchesNumpy(ulong seed, ulong[] expected)
    {
        var state = new ulong[4];

        new SeedSequence(seed).GenerateState(state);

        Assert.Equal(expected, state);
    }

    [Fact]
    public void GenerateState_Uint64_PairsUint32WordsLowHalfFirst()
    {
        var sequence = new SeedSequence(987654321UL);
        var words = new uint[8];
        var pairs = new ulong[4];

        sequence.GenerateState(words);
        sequence.GenerateState(pairs);

        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(words[2 * i], (uint)pairs[i]);
            Assert.Equal(words[(2 * i) + 1], (uint)(pairs[i] >> 32));
        }
    }

    [Fact]
    public void EntropyLongerThanThePool_IsMixedIntoEveryWord()
    {
        // SeedSequence(np.array([1, 2, 3, 4, 5, 6], dtype=np.uint32)): words 5 and 6 go through the tail loop.
        var sequence = new SeedSequence([1u, 2u, 3u, 4u, 5u, 6u]);
        var state = new uint[6];

        sequence.GenerateState(state);

        Assert.Equal([0x3AE7A697U, 0xA21EE909U, 0xCF61026CU, 0x4E535C87U], sequence.Pool.ToArray());
        Assert.Equal([0x1D1BCA21U, 0xEBCD001DU, 0xB202608BU, 0xCFEA83A4U, 0xE4FCF5B6U, 0x9B21DD81U], state);
    }

    [Fact]
    public void IntegerSeed_IsItsLittleEndianWords()
    {
        // numpy turns an int into 32-bit words, least significant first.
        Assert.Equal(new SeedSequence(5UL).Pool.ToArray(), new SeedSequence([5u]).Pool.ToArray());
        Assert.Equal(new SeedSequence(0x1_0000_0005UL).Pool.ToArray(), new SeedSequence([5u, 1u]).Pool.ToArray());
    }

    [Fact]
    public void EmptyEntropy_IsRefusedWithTheFix()
    {
        var error = Assert.Throws<ArgumentException>(() => new SeedSequence(ReadOnlySpan<uint>.Empty));

        Assert.Contains("[0]", error.Message, StringComparison.Ordinal);
    }
}
