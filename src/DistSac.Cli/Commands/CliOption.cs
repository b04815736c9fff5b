using System.CommandLine;
using System.Globalization;

namespace DistSac.Cli.Commands;

/// <summary>A flag bound to a configuration key: set on the command line, it overrides file and environment values.</summary>
public sealed class ConfigFlag
{
    public ConfigFlag(string name, string configKey, string description, Type valueType)
    {
        ConfigKey = configKey;
        Option = valueType == typeof(string) ? new Option<string>(name) { Description = description }
            : valueType == typeof(long) ? new Option<long?>(name) { Description = description }
            : valueType == typeof(int) ? new Option<int?>(name) { Description = description }
            : valueType == typeof(double) ? new Option<double?>(name) { Description = description }
            : valueType == typeof(bool) ? new Option<bool?>(name) { Description = description }
            : throw new ArgumentException($"Unsupported flag type {valueType}.", nameof(valueType));
    }

    public string ConfigKey { get; }
    public Option Option { get; }

    public static void Collect(ParseResult result, IEnumerable<ConfigFlag> flags, IDictionary<string, string?> into)
    {
        foreach (var flag in flags)
        {
            var optionResult = result.GetResult(flag.Option);
            if (optionResult is null || optionResult.Implicit) continue;
            object? value = flag.Option switch
            {
                Option<string> s => result.GetValue(s),
                Option<long?> l => result.GetValue(l),
                Option<int?> i => result.GetValue(i),
                Option<double?> d => result.GetValue(d),
                Option<bool?> b => result.GetValue(b),
                _ => null,
            };
            if (value is null) continue;
            into[flag.ConfigKey] = Convert.ToString(value, CultureInfo.InvariantCulture);
        }
    }
}
