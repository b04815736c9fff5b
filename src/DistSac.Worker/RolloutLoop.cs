using System.Diagnostics;
using DistSac.Envs;
using DistSac.Policy;
using DistSac.Protocol;

namespace DistSac.Worker;

/// <summary>
/// One vector step at a time: choose E actions (uniform while warming up, else the stochastic actor), step the E
/// environments, and pack E records into a batch. Every buffer is allocated here once, so a step allocates nothing.
/// Single-threaded: only the rollout thread calls <see cref="Step"/>.
/// </summary>
public sealed class RolloutLoop
{
    /// <summary>The policy version recorded for uniform-random warm-up actions.</summary>
    public const int RandomPolicyVersion = -1;

    private readonly VectorEnvironment _environments;
    private readonly PolicySlot _policy;
    private readonly TransitionRecord _layout;
    private readonly IExplorationNoise _noise;
    private readonly UniformActionSampler _uniform;
    private readonly SimulatedStepCost _simulatedCost;
    private readonly float[] _observations;
    private readonly float[] _actions;
    private readonly float[] _epsilon;
    private readonly float[] _nextObservations;
    private readonly float[] _rewards;
    private readonly float[] _terminated;
    private readonly float[] _truncated;

    /// <param name="environments">Reset before the first step is taken here if it was not already.</param>
    /// <param name="simulatedStepCostMicroseconds">Simulated simulator time per environment per step (scaling benchmarks).</param>
    /// <param name="simulatedCostMode">Whether that time is busy-waited or slept.</param>
    /// <param name="exploration">The actor's exploration noise; null: the environment's default.</param>
    public RolloutLoop(VectorEnvironment environments, PolicySlot policy, WorkerSeeds seeds, int simulatedStepCostMicroseconds = 0,
        SimulatedCostMode simulatedCostMode = SimulatedCostMode.Spin, ExplorationSettings? exploration = null)
    {
        ArgumentNullException.ThrowIfNull(environments);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentOutOfRangeException.ThrowIfNegative(simulatedStepCostMicroseconds);
        _environments = environments;
        _policy = policy;
        EnvSpec spec = environments.Spec;
        _layout = new TransitionRecord(spec.ObservationSize, spec.ActionSize);
        Exploration = exploration ?? ExplorationSettings.DefaultFor(spec.Id);
        _noise = Exploration.Create(seeds.ExplorationNoise, environments.Count, spec.ActionSize);
        _uniform = new UniformActionSampler(spec.ActionLow, spec.ActionHigh, seeds.RandomActions);
        _simulatedCost = new SimulatedStepCost(simulatedStepCostMicroseconds, environments.Count, simulatedCostMode);

        int e = environments.Count;
        _observations = new float[e * spec.ObservationSize];
        _actions = new float[e * spec.ActionSize];
        _epsilon = new float[e * spec.ActionSize];
        _nextObservations = new float[e * spec.ObservationSize];
        _rewards = new float[e];
        _terminated = new float[e];
        _truncated = new float[e];
        environments.Reset();
    }

    public int EnvironmentCount => _environments.Count;

    /// <summary>The exploration noise the stochastic actor samples with.</summary>
    public ExplorationSettings Exploration { get; }

    public TransitionRecord Layout => _layout;

    /// <summary>Environment steps taken (transitions produced), across all environments.</summary>
    public long Steps { get; private set; }

    public long CompletedEpisodes => _environments.CompletedEpisodes;

    public double LastEpisodeReturn => _environments.LastEpisodeReturn;

    /// <summary>The version that chose the last step's actions; -1 for random.</summary>
    public long LastPolicyVersion { get; private set; } = RandomPolicyVersion;

    /// <summary>Steps every environment once and appends its E transitions to <paramref name="batch"/>.</summary>
    public void Step(TransitionBatch batch, long timestamp)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int e = _environments.Count;
        int obsSize = _layout.ObservationSize;
        int actSize = _layout.ActionSize;
        int recordBytes = _layout.RecordBytes;

        // Step overwrites Observations with the next state (or a reset state), so keep s for the records.
        _environments.Observations.CopyTo(_observations);

        ActorNetwork? actor = _policy.ActingActor;
        int version;
        if (actor is null)
        {
            _uniform.Fill(_actions);
            version = RandomPolicyVersion;
        }
        else
        {
            _noise.Fill(_epsilon);
            actor.Act(_observations, e, _actions, _epsilon);
            version = (int)Math.Min(actor.Weights.Version, int.MaxValue);
        }

        _environments.Step(_actions, _nextObservations, _rewards, _terminated, _truncated);
        _simulatedCost.Pay();
        for (int i = 0; i < e; i++)
        {
            if (_terminated[i] != 0f || _truncated[i] != 0f)
            {
                _noise.Restart(i);
            }
        }

        // The record keeps terminated only: a time-limit truncation must still bootstrap (DESIGN section 2), and
        // next_obs is the true final observation, not the reset one, so the learner needs nothing else.
        Span<byte> records = batch.Append(e, timestamp);
        for (int i = 0; i < e; i++)
        {
            _layout.Write(
                records.Slice(i * recordBytes, recordBytes),
                _observations.AsSpan(i * obsSize, obsSize),
                _actions.AsSpan(i * actSize, actSize),
                _rewards[i],
                _nextObservations.AsSpan(i * obsSize, obsSize),
                _terminated[i] != 0f,
                version);
        }

        Steps += e;
        LastPolicyVersion = version;
    }
}
