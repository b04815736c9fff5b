using System.Text.Json;

namespace DistSac.Learning.Training;

/// <summary>Appends one JSON object per line to metrics.jsonl, flushed per record so a crash loses at most one line.</summary>
public sealed class MetricsWriter : IDisposable
{
    private readonly StreamWriter _writer;
    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public MetricsWriter(string path)
    {
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
    }

    public void Write<T>(T record) => _writer.WriteLine(JsonSerializer.Serialize(record, JsonOptions));

    public static string Serialize<T>(T record) => JsonSerializer.Serialize(record, JsonOptions);

    public void Dispose() => _writer.Dispose();
}

/// <summary>One line of metrics.jsonl in single-process training.</summary>
public sealed record TrainMetrics(
    long Step, long Updates, double TimeS, double StepsPerS, double UpdatesPerS,
    double? EpisodeReturn, long Episodes, double? EvalReturn, double? EvalReturnStd,
    double Alpha, double CriticLoss, double ActorLoss, double AlphaLoss, double MeanQ, double Entropy);
