namespace DistSac.Policy;

/// <summary>
/// The standard-normal eps of the squashed-Gaussian actor's sample a = tanh(mu + sigma * eps), one value per
/// (environment, action dimension), laid out environment-major like the action buffer.
/// </summary>
public interface IExplorationNoise
{
    /// <summary>Writes the next eps for every environment ([environments * actionSize]).</summary>
    void Fill(Span<float> destination);

    /// <summary>The environment at this index started a new episode; a correlated process starts afresh there.</summary>
    void Restart(int environment);
}

/// <summary>Which exploration noise the stochastic actor uses; configuration keys Train:ExplorationNoise and Worker:ExplorationNoise.</summary>
public static class ExplorationNoiseKind
{
    /// <summary>Independent N(0, 1) each step: SAC as published.</summary>
    public const string White = "white";

    /// <summary>
    /// A stationary Ornstein-Uhlenbeck process sampled once per step (an AR(1) with unit variance): temporally
    /// correlated, so the actions push one way for a while, which is what sparse-reward tasks such as
    /// MountainCarContinuous need (Eberhard et al. 2023, "Pink Noise Is All You Need", show white noise failing there
    /// and correlated noise solving it).
    /// </summary>
    public const string OrnsteinUhlenbeck = "ou";

    /// <summary>Throws naming the key and the accepted values when <paramref name="kind"/> is neither.</summary>
    public static void Validate(string kind, string key)
    {
        if (kind is not (White or OrnsteinUhlenbeck))
        {
            throw new ArgumentException($"{key} is '{kind}'; use {White} (independent Gaussian noise) or {OrnsteinUhlenbeck} (temporally correlated Ornstein-Uhlenbeck noise).");
        }
    }

    /// <summary>The noise source for <paramref name="environments"/> environments of <paramref name="actionSize"/> dimensions.</summary>
    public static IExplorationNoise Create(string kind, double correlationSteps, long seed, int environments, int actionSize)
    {
        Validate(kind, "exploration noise");
        return kind == White
            ? new GaussianNoise(seed)
            : new OrnsteinUhlenbeckNoise(seed, environments, actionSize, correlationSteps);
    }
}
