using System.Text.Json;
using System.Text.Json.Serialization;
using DistSac.Settings;

namespace DistSac.Local;

/// <summary>
/// runs/&lt;id&gt;/local.json: the settings a `distsac local` run started with, as a configuration file (section
/// "Local"), so `--resume runs/&lt;id&gt;` layers the command line's flags over them. A file of its own because the
/// learner owns config.json. It holds no secrets: a resumed run makes new ones.
/// </summary>
public static class LocalRunSettings
{
    public const string FileName = "local.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>The folder redis-server keeps shard <paramref name="index"/>'s AOF in, under a persisted run.</summary>
    public static string ShardDirectory(string runPath, int index) => Path.Combine(runPath, "redis", $"shard-{index}");

    public static void Save(string runPath, LocalOptions options) =>
        File.WriteAllText(Path.Combine(runPath, FileName), JsonSerializer.Serialize(new { Local = options }, Json));

    /// <summary>
    /// The stored settings file of a run to resume; a <see cref="ConfigurationException"/> (exit 2) naming the fix when
    /// the folder is not a `distsac local` run or its replay was not persisted.
    /// </summary>
    public static string ForResume(string runPath)
    {
        if (!Directory.Exists(runPath))
            throw new ConfigurationException($"--resume '{runPath}': no such run directory. Pass the folder `distsac local` printed as 'run directory:'.");
        var file = Path.Combine(runPath, FileName);
        if (!File.Exists(file))
            throw new ConfigurationException($"--resume '{runPath}': it has no {FileName}, so it was not started by `distsac local` (or by a version before --resume). Start a new run instead.");
        var stored = Read(file);
        if (!stored.Persist || !Directory.Exists(ShardDirectory(runPath, 0)))
            throw new ConfigurationException($"--resume '{runPath}': the run was started without --persist, so its replay shards were deleted when it stopped. " +
                                             "Only runs started with `distsac local --persist` can be resumed; start a new run (with --persist to make it resumable).");
        for (int i = 0; i < stored.Shards; i++)
        {
            if (!Directory.Exists(ShardDirectory(runPath, i)))
                throw new ConfigurationException($"--resume '{runPath}': shard {i}'s data folder {ShardDirectory(runPath, i)} is missing; the run's replay cannot be restored.");
        }
        return file;
    }

    /// <summary>Settings that a resumed run must keep: the shards hold data laid out for them.</summary>
    public static void CheckUnchanged(LocalOptions stored, LocalOptions resumed)
    {
        if (resumed.Shards != stored.Shards || resumed.Env != stored.Env || resumed.CapacityPerShard != stored.CapacityPerShard || resumed.Seed != stored.Seed)
            throw new ConfigurationException(
                $"--resume: --shards, --env, --capacity-per-shard and --seed must stay as the run started (shards {stored.Shards}, env {stored.Env}, " +
                $"capacity {stored.CapacityPerShard}, seed {stored.Seed}); the stored replay is laid out for them. Drop those flags.");
    }

    public static LocalOptions Read(string file)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            return doc.RootElement.GetProperty("Local").Deserialize<LocalOptions>()
                   ?? throw new ConfigurationException($"{file}: the 'Local' section is empty.");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException)
        {
            throw new ConfigurationException($"{file} is not a readable settings file ({e.Message}); the run cannot be resumed.", e);
        }
    }
}
