using System.Text.Json;

namespace DistSac.Learning.Training;

/// <summary>runs/&lt;id&gt;/: config.json, metrics.jsonl, tb/ (TensorBoard event files), checkpoint/ (actor.dsac for inference, learner.ckpt to resume).</summary>
public sealed class RunDirectory
{
    private RunDirectory(string path) { Path = path; }

    public string Path { get; }
    public string ConfigPath => System.IO.Path.Combine(Path, "config.json");
    public string MetricsPath => System.IO.Path.Combine(Path, "metrics.jsonl");
    public string TensorBoardDirectory => System.IO.Path.Combine(Path, "tb");
    public string CheckpointDirectory => System.IO.Path.Combine(Path, "checkpoint");
    public string ActorWeightsPath => System.IO.Path.Combine(CheckpointDirectory, ActorWeightsFileName);
    public string LearnerCheckpointPath => System.IO.Path.Combine(CheckpointDirectory, "learner.ckpt");
    public const string ActorWeightsFileName = "actor.dsac";

    public static string NewRunId(string env, long seed) =>
        $"{env.ToLowerInvariant().Replace('/', '-')}-s{seed}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Random.Shared.Next(0x1000):x3}";

    public static RunDirectory Create(string root, string runId)
    {
        if (runId.IndexOfAny(['/', '\\']) >= 0 || runId is "." or "..")
            throw new ArgumentException($"Run id '{runId}' must be a plain name without path separators.", nameof(runId));
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, runId));
        Directory.CreateDirectory(path);
        Directory.CreateDirectory(System.IO.Path.Combine(path, "checkpoint"));
        return new RunDirectory(path);
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public void WriteConfig(object config)
    {
        var json = JsonSerializer.Serialize(config, Indented);
        File.WriteAllText(ConfigPath, json);
    }
}
