using System.Security.Cryptography;

namespace DistSac.Envs.NumpyRandom;

/// <summary>
/// numpy.random.SeedSequence (bit_generator.pyx, after Melissa O'Neill's seed_seq design) for a root sequence
/// without spawn key: the entropy words are hashed into a pool of four uint32 words, every word is mixed into every
/// other, and <see cref="GenerateState(Span{uint})"/> hashes the pool out again. Gymnasium seeds np_random through it, so
/// reproducing it is what makes <c>reset(seed)</c> match Python for a given seed.
/// </summary>
public sealed class SeedSequence
{
    /// <summary>numpy's DEFAULT_POOL_SIZE (128 bits).</summary>
    public const int PoolSize = 4;

    private const uint InitA = 0x43b0d7e5;
    private const uint MultA = 0x931e8875;
    private const uint InitB = 0x8b51f9dd;
    private const uint MultB = 0x58f38ded;
    private const uint MixMultL = 0xca01f9dd;
    private const uint MixMultR = 0x4973f715;
    private const int XShift = 16;   // half the bits of a uint32

    private readonly uint[] _pool = new uint[PoolSize];

    /// <summary>SeedSequence(seed) for a non-negative Python int below 2^64.</summary>
    public SeedSequence(ulong seed)
    {
        // _int_to_uint32_array: 32-bit words, least significant first; 0 is one zero word, not an empty array.
        Span<uint> words = stackalloc uint[2];
        words[0] = (uint)seed;
        words[1] = (uint)(seed >> 32);
        MixEntropy(words[..(words[1] == 0 ? 1 : 2)]);
    }

    /// <summary>SeedSequence(entropy) for an entropy given as uint32 words, least significant first.</summary>
    public SeedSequence(ReadOnlySpan<uint> entropyWords)
    {
        if (entropyWords.IsEmpty)
        {
            throw new ArgumentException("A seed sequence needs at least one entropy word; pass [0] for the seed 0.", nameof(entropyWords));
        }

        MixEntropy(entropyWords);
    }

    /// <summary>The mixed pool (numpy's SeedSequence.pool).</summary>
    public ReadOnlySpan<uint> Pool => _pool;

    /// <summary>SeedSequence(None): 128 bits from the operating system, as numpy draws with secrets.randbits(128).</summary>
    public static SeedSequence FromOperatingSystemEntropy()
    {
        Span<uint> words = stackalloc uint[PoolSize];
        RandomNumberGenerator.Fill(System.Runtime.InteropServices.MemoryMarshal.AsBytes(words));
        return new SeedSequence(words);
    }

    /// <summary>generate_state(n, np.uint32).</summary>
    public void GenerateState(Span<uint> destination)
    {
        uint hashConst = InitB;
        for (int i = 0; i < destination.Length; i++)
        {
            uint value = _pool[i % PoolSize];
            value ^= hashConst;
            hashConst *= MultB;
            value *= hashConst;
            value ^= value >> XShift;
            destination[i] = value;
        }
    }

    /// <summary>
    /// generate_state(n, np.uint64): twice as many uint32 words, paired little-endian (the even word is the low half).
    /// </summary>
    public void GenerateState(Span<ulong> destination)
    {
        Span<uint> words = destination.Length <= 32 ? stackalloc uint[2 * destination.Length] : new uint[2 * destination.Length];
        GenerateState(words);
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = words[2 * i] | ((ulong)words[(2 * i) + 1] << 32);
        }
    }

    private static uint HashMix(uint value, ref uint hashConst)
    {
        value ^= hashConst;
        hashConst *= MultA;
        value *= hashConst;
        value ^= value >> XShift;
        return value;
    }

    private static uint Mix(uint x, uint y)
    {
        uint result = (MixMultL * x) - (MixMultR * y);
        result ^= result >> XShift;
        return result;
    }

    private void MixEntropy(ReadOnlySpan<uint> entropy)
    {
        uint hashConst = InitA;

        // Entropy up to the pool size; a shorter entropy keeps running the hash on zeros.
        for (int i = 0; i < PoolSize; i++)
        {
            _pool[i] = HashMix(i < entropy.Length ? entropy[i] : 0u, ref hashConst);
        }

        // Every word into every other, so late words affect early ones.
        for (int source = 0; source < PoolSize; source++)
        {
            for (int target = 0; target < PoolSize; target++)
            {
                if (source != target)
                {
                    _pool[target] = Mix(_pool[target], HashMix(_pool[source], ref hashConst));
                }
            }
        }

        // Entropy beyond the pool size is mixed into each pool word.
        for (int source = PoolSize; source < entropy.Length; source++)
        {
            for (int target = 0; target < PoolSize; target++)
            {
                _pool[target] = Mix(_pool[target], HashMix(entropy[source], ref hashConst));
            }
        }
    }
}
