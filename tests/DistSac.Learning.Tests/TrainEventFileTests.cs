using System.Text.Json;
using DistSac.Learning.Training;
using DistSac.Testing;

namespace DistSac.Learning.Tests;

/// <summary>`train` writes runs/&lt;id&gt;/tb/: one scalar event per metrics line at x = env steps, plus the config text.</summary>
public sealed class TrainEventFileTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("distsac-train-tb-");

    public void Dispose() => _root.Delete(recursive: true);

    private static readonly (string Field, string Tag)[] Pairs =
    [
        ("critic_loss", "train/critic_loss"), ("actor_loss", "train/actor_loss"), ("alpha", "train/alpha"), ("mean_q", "train/mean_q"),
        ("steps_per_s", "time/env_steps_per_s"), ("episode_return", "rollout/episode_return"), ("eval_return", "eval/return_mean"),
        ("eval_return_std", "eval/return_std"),
    ];

    [Fact]
    public void Train_WritesEveryMetricsLineAsScalarsAtItsEnvStep_AndTheConfigAsText()
    {
        var train = new TrainOptions
        {
            Steps = 300, LearningStarts = 100, EvalInterval = 150, EvalEpisodes = 1, LogInterval = 50,
            RunsRoot = _root.FullName, RunId = "tb", Device = "cpu", Threads = 1, Seed = 4,
        };
        var result = new SingleProcessTrainer(train, new SacOptions { BatchSize = 32, HiddenSizes = [16, 16] }).Run(CancellationToken.None);

        var events = TfEventsReader.ReadDirectory(Path.Combine(result.RunDirectory, "tb"));
        var lines = File.ReadAllLines(Path.Combine(result.RunDirectory, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();

        Assert.Equal("brain.Event:2", events[0].FileVersion);
        var config = Assert.Single(events[1].Values);
        Assert.Equal(("config", "text"), (config.Tag, config.PluginName));
        Assert.Contains("\"Seed\": 4", config.Text, StringComparison.Ordinal);
        var scalars = events.Skip(2).ToList();
        Assert.Equal(lines.Select(l => l.GetProperty("step").GetInt64()), scalars.Select(e => e.Step));
        for (int i = 0; i < lines.Count; i++)
        {
            var values = scalars[i].Values.ToDictionary(v => v.Tag, v => v.SimpleValue);
            foreach (var (field, tag) in Pairs)
            {
                // Before the first update the losses are NaN ("NaN" in JSON): left out, not drawn as a spike.
                var logged = lines[i].GetProperty(field);
                if (logged.ValueKind != JsonValueKind.Number) Assert.False(values.ContainsKey(tag), $"{tag} at line {i}");
                else Assert.Equal((float)logged.GetDouble(), values[tag]);
            }
        }
        Assert.Equal([150L, 300L], scalars.Where(e => e.Values.Any(v => v.Tag == "eval/return_mean")).Select(e => e.Step));
    }
}
