using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DistSac.Plots;

/// <summary>One evaluation of a run: env steps so far, seconds since the run started, deterministic mean return.</summary>
public readonly record struct EvaluationPoint(double EnvSteps, double Seconds, double Return);

/// <summary>
/// The evaluation curve of one run directory, read from its metrics.jsonl (`train` lines carry "step", the distributed
/// learner's "env_steps"; both carry "time_s" and, at evaluations, "eval_return"), and its configuration from
/// config.json with the per-run settings (seed, run id, folders, addresses) removed, so runs that differ only by seed
/// compare equal.
/// </summary>
public sealed class RunCurve
{
    /// <summary>Settings that differ between seeds or machines of the same experiment, ignored when grouping.</summary>
    private static readonly HashSet<string> PerRunSettings = new(StringComparer.OrdinalIgnoreCase)
    {
        "Seed", "RunId", "RunsRoot", "HttpListen", "Shards", "Password", "Threads",
    };

    private RunCurve(string path, string name, string env, long? seed, string configuration, IReadOnlyList<EvaluationPoint> points)
    {
        Path = path; Name = name; Env = env; Seed = seed; Configuration = configuration; Points = points;
    }

    public string Path { get; }
    public string Name { get; }
    public string Env { get; }
    public long? Seed { get; }
    /// <summary>config.json without the per-run settings, as canonical JSON: equal strings mean "same experiment".</summary>
    public string Configuration { get; }
    public IReadOnlyList<EvaluationPoint> Points { get; }

    /// <summary>Reads runs/&lt;id&gt;/; a folder without metrics.jsonl is an error naming the folder.</summary>
    public static RunCurve Read(string runDirectory)
    {
        var path = System.IO.Path.GetFullPath(runDirectory);
        var metrics = System.IO.Path.Combine(path, "metrics.jsonl");
        if (!File.Exists(metrics))
            throw new FileNotFoundException($"'{runDirectory}' has no metrics.jsonl; pass a run directory such as runs/<id> written by `distsac train` or a learner.", metrics);
        var points = new List<EvaluationPoint>();
        foreach (var line in ReadLinesShared(metrics))
        {
            if (line.Length == 0) continue;
            JsonNode? node;
            try { node = JsonNode.Parse(line); }
            catch (JsonException) { continue; } // a line torn by a crash mid-write
            if (node is not JsonObject o) continue;
            var ret = Number(o["eval_return"]);
            var steps = Number(o["env_steps"]) ?? Number(o["step"]);
            var seconds = Number(o["time_s"]);
            if (ret is { } r && steps is { } x && seconds is { } t && double.IsFinite(r)) points.Add(new(x, t, r));
        }
        string env = "?", configuration = "{}";
        long? seed = null;
        var configPath = System.IO.Path.Combine(path, "config.json");
        if (File.Exists(configPath) && JsonNode.Parse(File.ReadAllText(configPath)) is JsonObject config)
        {
            env = FindString(config, "Env") ?? env;
            seed = FindLong(config, "Seed");
            StripPerRunSettings(config);
            configuration = config.ToJsonString();
        }
        return new RunCurve(path, System.IO.Path.GetFileName(path), env, seed, configuration, points);
    }

    /// <summary>The learner appends while we read: open with FileShare.ReadWrite.</summary>
    private static IEnumerable<string> ReadLinesShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line) yield return line;
    }

    private static double? Number(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<double>(out var d) ? d
        : node is JsonValue s && s.TryGetValue<string>(out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : null;

    private static void StripPerRunSettings(JsonObject o)
    {
        foreach (var key in o.Select(kv => kv.Key).ToList())
        {
            if (PerRunSettings.Contains(key)) o.Remove(key);
            else if (o[key] is JsonObject child) StripPerRunSettings(child);
        }
    }

    private static string? FindString(JsonObject o, string key)
    {
        foreach (var (k, v) in o)
        {
            if (string.Equals(k, key, StringComparison.OrdinalIgnoreCase) && v is JsonValue value && value.TryGetValue<string>(out var s)) return s;
            if (v is JsonObject child && FindString(child, key) is { } found) return found;
        }
        return null;
    }

    private static long? FindLong(JsonObject o, string key)
    {
        foreach (var (k, v) in o)
        {
            if (string.Equals(k, key, StringComparison.OrdinalIgnoreCase) && v is JsonValue value && value.TryGetValue<long>(out var n)) return n;
            if (v is JsonObject child && FindLong(child, key) is { } found) return found;
        }
        return null;
    }
}
