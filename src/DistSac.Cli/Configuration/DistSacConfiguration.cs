using DistSac.Settings;
using Microsoft.Extensions.Configuration;

namespace DistSac.Cli.Configuration;

/// <summary>
/// Layers, lowest to highest precedence: code defaults (the options records), per-environment defaults, a JSON file
/// (--config), DISTSAC_* environment variables (sections joined by "__", e.g. DISTSAC_TRAIN__STEPS), command-line flags.
/// </summary>
public static class DistSacConfiguration
{
    public const string EnvironmentPrefix = "DISTSAC_";

    public static IConfiguration Build(string? jsonPath, IReadOnlyDictionary<string, string?> environmentDefaults, IReadOnlyDictionary<string, string?> flags)
    {
        var builder = new ConfigurationBuilder().AddInMemoryCollection(environmentDefaults);
        if (jsonPath is not null)
        {
            if (!File.Exists(jsonPath)) throw new FileNotFoundException($"Configuration file '{jsonPath}' does not exist.", jsonPath);
            builder.AddJsonFile(Path.GetFullPath(jsonPath), optional: false);
        }
        builder.AddEnvironmentVariables(EnvironmentPrefix);
        builder.AddInMemoryCollection(flags);
        return builder.Build();
    }

    /// <summary>Binds a section, failing with the key's name when a value cannot be converted.</summary>
    public static T Bind<T>(IConfiguration configuration, string section) where T : new()
    {
        try
        {
            return configuration.GetSection(section).Get<T>(o => o.ErrorOnUnknownConfiguration = true) ?? new T();
        }
        catch (InvalidOperationException e)
        {
            throw new ConfigurationException($"Invalid configuration in section '{section}': {e.Message}", e);
        }
    }
}
