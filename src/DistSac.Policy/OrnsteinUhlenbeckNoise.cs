namespace DistSac.Policy;

/// <summary>
/// Stationary, unit-variance Ornstein-Uhlenbeck noise sampled every step: eps_t = rho eps_(t-1) + sqrt(1 - rho^2) w_t
/// with w_t ~ N(0, 1) and rho = exp(-1 / correlationSteps). Each eps_t is still N(0, 1), so the actor's sample keeps
/// the distribution SAC's log-probability assumes; only successive samples are correlated (over about
/// correlationSteps steps). Each (environment, dimension) lane starts an episode with a fresh N(0, 1) draw. Not
/// thread-safe; allocates only in its constructor.
/// </summary>
public sealed class OrnsteinUhlenbeckNoise : IExplorationNoise
{
    private readonly GaussianNoise _white;
    private readonly float[] _state;
    private readonly bool[] _fresh;
    private readonly float[] _draws;
    private readonly int _actionSize;
    private readonly float _rho;
    private readonly float _innovationScale;

    public OrnsteinUhlenbeckNoise(long seed, int environments, int actionSize, double correlationSteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(environments, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(actionSize, 1);
        if (!(correlationSteps > 0) || double.IsInfinity(correlationSteps))
        {
            throw new ArgumentOutOfRangeException(nameof(correlationSteps), correlationSteps, "The correlation time must be a positive number of steps, e.g. 15.");
        }

        _white = new GaussianNoise(seed);
        _actionSize = actionSize;
        _state = new float[environments * actionSize];
        _draws = new float[environments * actionSize];
        _fresh = new bool[environments];
        Array.Fill(_fresh, true);
        double rho = Math.Exp(-1.0 / correlationSteps);
        _rho = (float)rho;
        _innovationScale = (float)Math.Sqrt(1.0 - (rho * rho));
    }

    /// <summary>Correlation of successive values of one lane.</summary>
    public float Rho => _rho;

    public void Fill(Span<float> destination)
    {
        if (destination.Length != _state.Length)
        {
            throw new ArgumentException($"Expected {_state.Length} values ({_fresh.Length} environments x {_actionSize} dimensions), got {destination.Length}.", nameof(destination));
        }

        // Always one white draw per lane, fresh or not, so the stream does not depend on when episodes end.
        _white.Fill(_draws);
        for (int environment = 0; environment < _fresh.Length; environment++)
        {
            int start = environment * _actionSize;
            bool fresh = _fresh[environment];
            _fresh[environment] = false;
            for (int i = start; i < start + _actionSize; i++)
            {
                _state[i] = fresh ? _draws[i] : (_rho * _state[i]) + (_innovationScale * _draws[i]);
            }
        }

        _state.CopyTo(destination);
    }

    public void Restart(int environment) => _fresh[environment] = true;
}
