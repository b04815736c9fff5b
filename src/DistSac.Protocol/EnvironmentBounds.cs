using DistSac.Envs;

namespace DistSac.Protocol;

/// <summary>The record bounds of a run's environment, from the environment registry (looked up once per run).</summary>
public static class EnvironmentBounds
{
    /// <summary>The bounds for <paramref name="spec"/>'s spaces and reward range; unbounded values are held to <paramref name="maxAbsValue"/>.</summary>
    public static RecordBounds For(EnvSpec spec, double maxAbsValue)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return RecordBounds.Create(spec.Id, spec.ObservationLow, spec.ObservationHigh, spec.ActionLow, spec.ActionHigh,
            spec.RewardLow, spec.RewardHigh, (float)maxAbsValue);
    }
}
