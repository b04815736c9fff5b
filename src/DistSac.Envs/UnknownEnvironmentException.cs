namespace DistSac.Envs;

/// <summary>Thrown for an environment id that is not registered; the message lists the ids that are.</summary>
public sealed class UnknownEnvironmentException : ArgumentException
{
    public UnknownEnvironmentException(string id)
        : base(FormatMessage(id))
    {
        Id = id;
    }

    /// <summary>The id that was asked for.</summary>
    public string Id { get; }

    // Overridden rather than passed to the base constructor so that Message stays exactly the documented
    // sentence (ArgumentException appends " (Parameter 'id')" only when the base field is set).
    public override string? ParamName => "id";

    private static string FormatMessage(string id) =>
        $"Unknown environment '{id}'. Registered environments: {string.Join(", ", EnvironmentRegistry.Ids)}.";
}
