namespace DistSac.Envs;

/// <summary>Gymnasium-style make(id) for the environments this library implements.</summary>
public static class EnvironmentRegistry
{
    private static readonly string[] RegisteredIds =
    [
        PendulumEnvironment.DefaultSpec.Id,
        MountainCarContinuousEnvironment.DefaultSpec.Id,
    ];

    /// <summary>Registered ids, in registration order.</summary>
    public static IReadOnlyList<string> Ids { get; } = Array.AsReadOnly(RegisteredIds);

    /// <summary>A new, unseeded instance; call Reset(seed) before Step. Ids are case-sensitive, as in Gymnasium.</summary>
    public static IEnvironment Make(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return id switch
        {
            "Pendulum-v1" => new PendulumEnvironment(),
            "MountainCarContinuous-v0" => new MountainCarContinuousEnvironment(),
            _ => throw new UnknownEnvironmentException(id),
        };
    }

    public static EnvSpec GetSpec(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return id switch
        {
            "Pendulum-v1" => PendulumEnvironment.DefaultSpec,
            "MountainCarContinuous-v0" => MountainCarContinuousEnvironment.DefaultSpec,
            _ => throw new UnknownEnvironmentException(id),
        };
    }
}
