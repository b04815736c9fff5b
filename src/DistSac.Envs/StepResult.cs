namespace DistSac.Envs;

/// <summary>
/// The scalar part of Gymnasium's step tuple. Terminated is an MDP end (do not bootstrap);
/// Truncated is the time limit (bootstrap). Both can be true on the same step, as in Gymnasium's TimeLimit.
/// </summary>
public readonly record struct StepResult(float Reward, bool Terminated, bool Truncated);
