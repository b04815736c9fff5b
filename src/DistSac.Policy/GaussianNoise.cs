using DistSac.Envs;

namespace DistSac.Policy;

/// <summary>
/// Seeded standard-normal generator for exploration noise: xoshiro256** for uniforms (fast, 256-bit state,
/// passes BigCrush) and the Marsaglia polar method for normals (no trigonometry). The stream depends only on the
/// seed and the number of values drawn, not on how draws are split across <see cref="Fill"/> calls, so a worker
/// replays exactly given its seed. Not thread-safe.
/// </summary>
public sealed class GaussianNoise : IExplorationNoise
{
    private readonly Xoshiro256StarStar _random;
    private float _spare;
    private bool _hasSpare;

    public GaussianNoise(long seed) => _random = new Xoshiro256StarStar(seed);

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

    /// <summary>White noise has no memory, so a new episode changes nothing.</summary>
    public void Restart(int environment)
    {
    }

    private (float First, float Second) NextPair()
    {
        while (true)
        {
            // Doubles from the top 53 bits: the polar method's log of a tiny s needs more than float precision.
            double u = (_random.NextUInt64() >> 11) * (2.0 / (1UL << 53)) - 1.0;
            double v = (_random.NextUInt64() >> 11) * (2.0 / (1UL << 53)) - 1.0;
            double s = (u * u) + (v * v);
            if (s < 1.0 && s > 0.0)
            {
                double factor = Math.Sqrt(-2.0 * Math.Log(s) / s);
                return ((float)(u * factor), (float)(v * factor));
            }
        }
    }
}
