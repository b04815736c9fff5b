namespace DistSac.Envs;

/// <summary>A single-agent, continuous-action environment with Gymnasium semantics.</summary>
public interface IEnvironment
{
    EnvSpec Spec { get; }

    /// <summary>
    /// Gymnasium reset(seed): a seed reseeds the environment's RNG; null continues the RNG stream.
    /// Writes the first observation ([Spec.ObservationSize]).
    /// </summary>
    void Reset(long? seed, Span<float> observation);

    /// <summary>
    /// Gymnasium step(a) with the TimeLimit wrapper applied: Truncated is true from the MaxEpisodeSteps-th step
    /// on (independently of Terminated, as Gymnasium's TimeLimit does). Throws if Reset was never called.
    /// </summary>
    StepResult Step(ReadOnlySpan<float> action, Span<float> observation);
}
