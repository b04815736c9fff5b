namespace DistSac.Envs;

/// <summary>
/// Shapes and bounds of an environment, as Gymnasium's observation_space / action_space (Box, float32)
/// and the registration's max_episode_steps.
/// </summary>
public sealed record EnvSpec(
    string Id,
    int ObservationSize,
    int ActionSize,
    float[] ObservationLow,
    float[] ObservationHigh,
    float[] ActionLow,
    float[] ActionHigh,
    int MaxEpisodeSteps);
