using System.Text;
using DistSac.Worker;

namespace DistSac.Worker.Host;

/// <summary>
/// distsac-worker's command line: the flags of <see cref="WorkerFlags"/> ("--envs 8" or "--envs=8"), --config FILE and
/// --help. Values stay strings here; the configuration binder converts them and names the key when one is bad.
/// </summary>
internal sealed record WorkerCommandLine(string? ConfigPath, IReadOnlyDictionary<string, string?> Overrides, bool Help)
{
    /// <exception cref="ArgumentException">An unknown flag, or a flag without its value.</exception>
    public static WorkerCommandLine Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string? config = null;
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg is "-h" or "--help" or "-?")
            {
                return new WorkerCommandLine(config, overrides, Help: true);
            }

            // "worker" as the first argument: the same arguments as `distsac worker ...` work here.
            if (i == 0 && arg == "worker")
            {
                continue;
            }

            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            string name = equals > 0 ? arg[..equals] : arg;
            string? value = equals > 0 ? arg[(equals + 1)..] : null;
            if (value is null)
            {
                if (i + 1 >= args.Count || (args[i + 1].StartsWith("--", StringComparison.Ordinal) && args[i + 1].Length > 2))
                {
                    throw new ArgumentException($"{name} needs a value (e.g. {name} VALUE); see distsac-worker --help.");
                }

                value = args[++i];
            }

            if (name == "--config")
            {
                config = value;
                continue;
            }

            WorkerFlag flag = Find(name) ?? throw new ArgumentException($"Unknown argument '{arg}'; see distsac-worker --help for the flags.");
            overrides[flag.Key] = value;
        }

        return new WorkerCommandLine(config, overrides, Help: false);
    }

    public static string Usage()
    {
        var text = new StringBuilder()
            .AppendLine("distsac-worker: run a rollout worker (the Native AOT build of `distsac worker`).")
            .AppendLine()
            .AppendLine("Usage: distsac-worker [--config FILE] [--flag VALUE]...")
            .AppendLine("Settings, lowest precedence first: defaults, --config FILE (section Worker), DISTSAC_WORKER__* variables, flags.")
            .AppendLine()
            .AppendLine("  --config FILE  JSON configuration file (section Worker).");
        foreach (WorkerFlag flag in WorkerFlags.All)
        {
            text.Append("  ").Append(flag.Name).Append(' ').Append(flag.ValueType == typeof(string) ? "TEXT" : "NUMBER")
                .Append("  ").AppendLine(flag.Description);
        }

        return text.ToString();
    }

    private static WorkerFlag? Find(string name)
    {
        foreach (WorkerFlag flag in WorkerFlags.All)
        {
            if (flag.Name == name)
            {
                return flag;
            }
        }

        return null;
    }
}
