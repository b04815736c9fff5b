namespace DistSac.Envs.NumpyRandom;

/// <summary>
/// numpy.random.PCG64 (O'Neill's PCG XSL RR 128/64): a 128-bit LCG whose output XORs the two halves of the new state
/// and rotates the result by its top 6 bits; seeded from a <see cref="SeedSequence"/> as numpy does, with the
/// conversions of numpy's Generator (random_raw, next_double, uniform). Not thread-safe.
/// </summary>
public sealed class Pcg64
{
    /// <summary>PCG_DEFAULT_MULTIPLIER_128.</summary>
    internal static readonly UInt128 Multiplier = new(0x2360ed051fc65da4UL, 0x4385df649fccf645UL);

    private const double DoubleUnit = 1.0 / (1UL << 53);

    private UInt128 _state;
    private UInt128 _increment;

    /// <summary>PCG64(SeedSequence(seed)).</summary>
    public Pcg64(ulong seed) => Reseed(new SeedSequence(seed));

    /// <summary>PCG64(seedSequence).</summary>
    public Pcg64(SeedSequence seedSequence) => Reseed(seedSequence);

    /// <summary>The 128-bit LCG state (numpy's bit_generator.state['state']['state']).</summary>
    public UInt128 State => _state;

    /// <summary>The odd increment (numpy's bit_generator.state['state']['inc']).</summary>
    public UInt128 Increment => _increment;

    /// <summary>
    /// numpy's PCG64.__init__: generate_state(4, uint64) gives initstate = (w0 &lt;&lt; 64) | w1 and
    /// initseq = (w2 &lt;&lt; 64) | w3 (pcg64_set_seed), then pcg_setseq_128_srandom_r.
    /// </summary>
    public void Reseed(SeedSequence seedSequence)
    {
        ArgumentNullException.ThrowIfNull(seedSequence);
        Span<ulong> words = stackalloc ulong[4];
        seedSequence.GenerateState(words);
        SetSeed(new UInt128(words[0], words[1]), new UInt128(words[2], words[3]));
    }

    /// <summary>PCG64(SeedSequence(seed)) again, without allocating a new generator.</summary>
    public void Reseed(ulong seed) => Reseed(new SeedSequence(seed));

    /// <summary>pcg_setseq_128_srandom_r: inc = 2 initseq + 1; step; state += initstate; step.</summary>
    public void SetSeed(UInt128 initialState, UInt128 sequence)
    {
        _state = UInt128.Zero;
        _increment = (sequence << 1) | UInt128.One;
        Step();
        _state += initialState;
        Step();
    }

    /// <summary>random_raw(): step, then the XSL RR output of the new state.</summary>
    public ulong NextUInt64()
    {
        Step();
        ulong high = (ulong)(_state >> 64);
        ulong low = (ulong)_state;
        int rotation = (int)(high >> 58);
        return ulong.RotateRight(high ^ low, rotation);
    }

    /// <summary>numpy's next_double: the top 53 bits of one output times 2^-53, uniform on [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * DoubleUnit;

    /// <summary>
    /// Generator.uniform(low, high) for one float64 draw: random_uniform computes low + (high - low) * next_double,
    /// with the range high - low formed first (as numpy does before broadcasting).
    /// </summary>
    public double Uniform(double low, double high)
    {
        double range = high - low;
        return low + (range * NextDouble());
    }

    private void Step() => _state = unchecked((_state * Multiplier) + _increment);
}
