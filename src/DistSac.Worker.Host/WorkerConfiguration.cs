using DistSac.Worker;
using Microsoft.Extensions.Configuration;

namespace DistSac.Worker.Host;

/// <summary>
/// Builds <see cref="WorkerOptions"/> from the layers `distsac worker` uses (JSON file, DISTSAC_* variables with "__"
/// between sections, flags), bound by the configuration binder's source generator (no reflection, so AOT-safe).
/// </summary>
internal static class WorkerConfiguration
{
    public const string EnvironmentPrefix = "DISTSAC_";

    /// <exception cref="FileNotFoundException">The --config file does not exist.</exception>
    /// <exception cref="ArgumentException">A value cannot be converted, or a key is unknown (both named).</exception>
    public static WorkerOptions Load(string? jsonPath, IReadOnlyDictionary<string, string?> flags)
    {
        ArgumentNullException.ThrowIfNull(flags);
        var builder = new ConfigurationBuilder();
        if (jsonPath is not null)
        {
            if (!File.Exists(jsonPath))
            {
                throw new FileNotFoundException($"Configuration file '{jsonPath}' does not exist.", jsonPath);
            }

            builder.AddJsonFile(Path.GetFullPath(jsonPath), optional: false);
        }

        builder.AddEnvironmentVariables(EnvironmentPrefix);
        builder.AddInMemoryCollection(flags);
        IConfiguration configuration = builder.Build();
        try
        {
            return configuration.GetSection(WorkerOptions.Section).Get<WorkerOptions>(o => o.ErrorOnUnknownConfiguration = true) ?? new WorkerOptions();
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException($"Invalid configuration in section '{WorkerOptions.Section}': {e.Message}", e);
        }
    }
}
