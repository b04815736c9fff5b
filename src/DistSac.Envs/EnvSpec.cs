namespace DistSac.Envs;

/// <summary>
/// Shapes and bounds of an environment, as Gymnasium's observation_space / action_space (Box, float32)
/// and the registration's max_episode_steps, plus the reward range the dynamics can produce for actions inside the
/// action box (Gymnasium's old reward_range; infinite where the environment does not bound it).
/// </summary>
public sealed record EnvSpec(
    string Id,
    int ObservationSize,
    int ActionSize,
    float[] ObservationLow,
    float[] ObservationHigh,
    float[] ActionLow,
    float[] ActionHigh,
    int MaxEpisodeSteps,
    float RewardLow = float.NegativeInfinity,
    float RewardHigh = float.PositiveInfinity);
