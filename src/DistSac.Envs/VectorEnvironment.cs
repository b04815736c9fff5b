namespace DistSac.Envs;

/// <summary>
/// Count copies of one environment stepped together, with same-step autoreset (Gymnasium's
/// AutoresetMode.SAME_STEP): the transition keeps the true final observation, and Observations already holds
/// the next episode's first observation. Step allocates nothing.
/// </summary>
public sealed class VectorEnvironment
{
    private readonly IEnvironment[] _environments;
    private readonly float[] _observations;
    private readonly double[] _episodeReturns;
    private readonly int[] _episodeLengths;
    private readonly long _seed;
    private readonly int _observationSize;
    private readonly int _actionSize;
    private bool _seeded;
    private bool _hasReset;

    /// <param name="id">A registered environment id.</param>
    /// <param name="count">Number of environments, at least 1.</param>
    /// <param name="seed">Environment i is seeded with seed + i on the first Reset; later resets continue each RNG.</param>
    public VectorEnvironment(string id, int count, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Spec = EnvironmentRegistry.GetSpec(id);
        Count = count;
        _seed = seed;
        _observationSize = Spec.ObservationSize;
        _actionSize = Spec.ActionSize;
        _environments = new IEnvironment[count];
        for (int i = 0; i < count; i++)
        {
            _environments[i] = EnvironmentRegistry.Make(id);
        }

        _observations = new float[count * _observationSize];
        _episodeReturns = new double[count];
        _episodeLengths = new int[count];
    }

    public EnvSpec Spec { get; }

    public int Count { get; }

    /// <summary>[Count * ObservationSize]: the observations to act on now.</summary>
    public ReadOnlySpan<float> Observations => _observations;

    public long CompletedEpisodes { get; private set; }

    /// <summary>Sum of rewards of the most recently completed episode; NaN before any.</summary>
    public double LastEpisodeReturn { get; private set; } = double.NaN;

    /// <summary>Steps in the most recently completed episode; NaN before any.</summary>
    public double LastEpisodeLength { get; private set; } = double.NaN;

    /// <summary>Resets every environment, seeding them (seed + i) the first time only, as Gymnasium's vector reset(seed).</summary>
    public void Reset()
    {
        for (int i = 0; i < _environments.Length; i++)
        {
            long? seed = _seeded ? null : unchecked(_seed + i);
            _environments[i].Reset(seed, _observations.AsSpan(i * _observationSize, _observationSize));
            _episodeReturns[i] = 0.0;
            _episodeLengths[i] = 0;
        }

        _seeded = true;
        _hasReset = true;
    }

    /// <summary>
    /// Steps every environment with its slice of actions ([Count * ActionSize]). Writes each transition's true next
    /// observation (the final one when the episode ended) to nextObservations ([Count * ObservationSize]), and
    /// reward, terminated (1/0) and truncated (1/0) ([Count] each). Ended environments are reset at once without a
    /// seed, so Observations then holds their new first observation.
    /// </summary>
    public void Step(
        ReadOnlySpan<float> actions,
        Span<float> nextObservations,
        Span<float> rewards,
        Span<float> terminated,
        Span<float> truncated)
    {
        ArgumentLength.Require(actions.Length, Count * _actionSize, nameof(actions));
        ArgumentLength.Require(nextObservations.Length, Count * _observationSize, nameof(nextObservations));
        ArgumentLength.Require(rewards.Length, Count, nameof(rewards));
        ArgumentLength.Require(terminated.Length, Count, nameof(terminated));
        ArgumentLength.Require(truncated.Length, Count, nameof(truncated));
        if (!_hasReset)
        {
            throw new InvalidOperationException("Call Reset before the first Step.");
        }

        int obsSize = _observationSize;
        int actSize = _actionSize;
        for (int i = 0; i < _environments.Length; i++)
        {
            Span<float> next = nextObservations.Slice(i * obsSize, obsSize);
            StepResult result = _environments[i].Step(actions.Slice(i * actSize, actSize), next);
            rewards[i] = result.Reward;
            terminated[i] = result.Terminated ? 1f : 0f;
            truncated[i] = result.Truncated ? 1f : 0f;

            _episodeReturns[i] += result.Reward;
            _episodeLengths[i]++;

            Span<float> current = _observations.AsSpan(i * obsSize, obsSize);
            if (result.Terminated || result.Truncated)
            {
                CompletedEpisodes++;
                LastEpisodeReturn = _episodeReturns[i];
                LastEpisodeLength = _episodeLengths[i];
                _episodeReturns[i] = 0.0;
                _episodeLengths[i] = 0;
                _environments[i].Reset(null, current);
            }
            else
            {
                next.CopyTo(current);
            }
        }
    }
}
