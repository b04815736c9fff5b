using System.CommandLine;
using DistSac.Cli.Configuration;
using DistSac.Learning;
using Microsoft.Extensions.Configuration;

namespace DistSac.Cli.Commands;

/// <summary>Flags shared by several roles, each bound to a configuration key (and so to a DISTSAC_ variable).</summary>
public static class CommonFlags
{
    public static List<ConfigFlag> Sac() =>
    [
        new("--batch-size", "Sac:BatchSize", "Minibatch size (default 256).", typeof(int)),
        new("--gamma", "Sac:Gamma", "Discount (default 0.99).", typeof(double)),
        new("--tau", "Sac:Tau", "Polyak coefficient for critic targets (default 0.005; Pendulum-v1's distributed learner 0.02).", typeof(double)),
        new("--initial-alpha", "Sac:InitialAlpha", "Initial temperature (default 0.2).", typeof(double)),
        new("--actor-lr", "Sac:ActorLearningRate", "Actor Adam learning rate.", typeof(double)),
        new("--critic-lr", "Sac:CriticLearningRate", "Critic Adam learning rate.", typeof(double)),
        new("--alpha-lr", "Sac:AlphaLearningRate", "Temperature Adam learning rate.", typeof(double)),
    ];

    public static Option<string> Hidden() => new("--hidden") { Description = "Hidden layer sizes, comma separated (default 256,256)." };

    public static Option<string> ConfigFile() => new("--config") { Description = "JSON configuration file (sections Train, Learner, Sac, Replay, Gateway, Worker)." };

    /// <summary>"a:1,b:2" -> Replay:Shards:0 = a:1, Replay:Shards:1 = b:2.</summary>
    public static Option<string> Shards() => new("--shards") { Description = "Redis shard endpoints host:port, comma separated (each holds its slice of the replay and a copy of the run-level keys)." };

    public static void CollectLists(ParseResult parse, Option<string> hidden, Option<string>? shards, IDictionary<string, string?> overrides)
    {
        if (parse.GetValue(hidden) is { } h) Split(h, "--hidden", "Sac:HiddenSizes", overrides);
        if (shards is not null) CollectShards(parse, shards, overrides);
    }

    /// <summary>--shards a,b,c as Replay:Shards:0..2.</summary>
    public static void CollectShards(ParseResult parse, Option<string> shards, IDictionary<string, string?> overrides)
    {
        if (parse.GetValue(shards) is { } s) Split(s, "--shards", "Replay:Shards", overrides);
    }

    /// <summary>A comma-separated flag value as key:0, key:1, ...; an empty entry ("a,,b") is an error, never silently dropped.</summary>
    private static void Split(string list, string flag, string key, IDictionary<string, string?> overrides)
    {
        var parts = list.Split(',', StringSplitOptions.TrimEntries);
        for (int i = 0; i < parts.Length; i++)
        {
            if (parts[i].Length == 0)
                throw new ArgumentException($"{flag} '{list}' has an empty entry at position {i + 1}; separate the values by single commas, e.g. {flag} a,b.");
            overrides[$"{key}:{i}"] = parts[i];
        }
    }

    /// <summary>Binds "Sac", replacing (not merging) the hidden sizes when configured.</summary>
    public static SacOptions BindSac(IConfiguration configuration)
    {
        var sac = DistSacConfiguration.Bind<SacOptions>(configuration, "Sac");
        var hidden = configuration.GetSection("Sac:HiddenSizes");
        if (hidden.GetChildren().Any()) sac = sac with { HiddenSizes = hidden.Get<int[]>() ?? sac.HiddenSizes };
        return sac;
    }

    /// <summary>String arrays from configuration replace the defaults instead of being appended to them.</summary>
    public static string[]? BindList(IConfiguration configuration, string key)
    {
        var section = configuration.GetSection(key);
        return section.GetChildren().Any() ? section.Get<string[]>() : null;
    }
}
