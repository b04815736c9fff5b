using System.CommandLine;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using DistSac.Cli.Configuration;
using DistSac.Gateway;
using DistSac.Learner;
using DistSac.Learning;
using DistSac.Learning.Training;
using DistSac.Local;
using DistSac.Observability;
using DistSac.Replay;
using DistSac.Worker;

namespace DistSac.Cli.Commands;

/// <summary>
/// `distsac config`: every setting the binary knows, as DISTSAC_ environment variable, default and type, read by
/// reflection from the options records so the list cannot drift from the code (deployment manifests are checked against it).
/// </summary>
public static class ConfigCommand
{
    /// <summary>One known setting; arrays are one entry whose variable ends in "__&lt;i&gt;".</summary>
    public sealed record Setting(string Variable, string Key, string Default, string Type);

    // Section name -> the record bound from it (the commands bind these exact section names).
    private static readonly (string Section, Type Options)[] Sections =
    [
        ("Train", typeof(TrainOptions)),
        ("Sac", typeof(SacOptions)),
        ("Learner", typeof(LearnerOptions)),
        ("Replay", typeof(ReplayOptions)),
        ("Gateway", typeof(GatewayOptions)),
        ("Worker", typeof(WorkerOptions)),
        ("Local", typeof(LocalOptions)),
    ];

    // Defaults computed per process: printing this process's value would mislead.
    private static readonly Dictionary<string, string> ComputedDefaults = new(StringComparer.Ordinal)
    {
        ["Worker:WorkerId"] = "<hostname>-<pid>-<random>",
    };

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array of {variable, key, default, type} instead of tab-separated lines." };
        var command = new Command("config", "List every setting: DISTSAC_SECTION__KEY, its code default and its type (train and learner also apply per-environment defaults, e.g. Steps).") { json };
        command.SetAction(parse =>
        {
            var settings = All();
            if (parse.GetValue(json)) WriteJson(settings, Console.OpenStandardOutput());
            else foreach (var s in settings) Console.WriteLine($"{s.Variable}\t{s.Default}\t{s.Type}");
            return 0;
        });
        return command;
    }

    public static IReadOnlyList<Setting> All()
    {
        var list = new List<Setting>();
        foreach (var (section, type) in Sections)
        {
            var defaults = Activator.CreateInstance(type) ?? throw new InvalidOperationException($"Cannot create {type.Name}.");
            foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (!IsSetting(p)) continue;
                var isArray = p.PropertyType.IsArray;
                var variable = $"{DistSacConfiguration.EnvironmentPrefix}{section}__{p.Name}".ToUpperInvariant() + (isArray ? "__<i>" : "");
                var key = $"{section}:{p.Name}" + (isArray ? ":<i>" : "");
                var value = ComputedDefaults.GetValueOrDefault(key) ?? Format(p.GetValue(defaults));
                list.Add(new Setting(variable, key, value, TypeName(p.PropertyType)));
            }
        }
        // Not an options record: the gateway's log filter (`distsac replay --log-level`).
        list.Add(new Setting("DISTSAC_LOGGING__LOGLEVEL__DEFAULT", "Logging:LogLevel:Default", "Information", "string"));
        // Read by every role's logging set-up before configuration exists: text or json (RoleLogging).
        list.Add(new Setting(RoleLogging.FormatVariable, "(environment only)", "text", "string"));
        return list;
    }

    /// <summary>A bindable setting: a public init or set accessor (WorkerOptions uses set for the AOT binder generator).</summary>
    private static bool IsSetting(PropertyInfo p) => p.SetMethod is { IsPublic: true };

    private static string Format(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        Array a => string.Join(",", a.Cast<object>().Select(x => Convert.ToString(x, CultureInfo.InvariantCulture))),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string TypeName(Type t)
    {
        if (t.IsArray) return TypeName(t.GetElementType()!) + "[]";
        if (Nullable.GetUnderlyingType(t) is { } inner) return TypeName(inner) + "?";
        if (t.IsEnum) return string.Join('|', Enum.GetNames(t)); // the accepted values, not the CLR type's name
        return t == typeof(string) ? "string" : t == typeof(int) ? "int" : t == typeof(long) ? "long"
            : t == typeof(double) ? "double" : t == typeof(bool) ? "bool" : t.Name;
    }

    private static void WriteJson(IReadOnlyList<Setting> settings, Stream stream)
    {
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        writer.WriteStartArray();
        foreach (var s in settings)
        {
            writer.WriteStartObject();
            writer.WriteString("variable", s.Variable);
            writer.WriteString("key", s.Key);
            writer.WriteString("default", s.Default);
            writer.WriteString("type", s.Type);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.Flush();
        stream.WriteByte((byte)'\n');
    }
}
