using System.Text.RegularExpressions;

namespace DistSac.Deploy.Tests;

/// <summary>The settings the built `distsac` binary knows, asked from it (`distsac config`) rather than copied here.</summary>
public static partial class KnownSettings
{
    private static readonly Lazy<IReadOnlyList<string>> Variables = new(Ask);

    public static IReadOnlyList<string> All => Variables.Value;

    /// <summary>True when the name is a known variable, or an element DISTSAC_X__Y__&lt;n&gt; of a known array.</summary>
    public static bool IsKnown(string variable)
    {
        if (All.Contains(variable, StringComparer.OrdinalIgnoreCase)) return true;
        var element = ArrayElement().Match(variable);
        return element.Success && All.Contains(element.Groups[1].Value + "__<i>", StringComparer.OrdinalIgnoreCase);
    }

    public static string Executable()
    {
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        var path = Path.Combine(RenderedOverlay.RepositoryRoot(), "src", "DistSac.Cli", "bin", configuration, "net10.0", "distsac");
        if (!File.Exists(path)) throw new FileNotFoundException("Build the solution first: " + path);
        return path;
    }

    private static IReadOnlyList<string> Ask()
    {
        var (code, stdout, stderr) = Tool.Run(Executable(), ["config"]);
        if (code != 0) throw new InvalidOperationException($"`distsac config` exited {code} (is ConfigCommand registered in Program.cs?): {stderr}");
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('\t')[0]).ToList();
    }

    [GeneratedRegex(@"^(.+)__\d+$")]
    private static partial Regex ArrayElement();
}
