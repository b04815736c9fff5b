using System.Text;
using System.Text.Json;

namespace DistSac.Learning.Training;

/// <summary>
/// Appends one JSON object per line to metrics.jsonl, each line one unbuffered write so a crash loses at most one line.
/// A failed write (full disk, read-only folder) drops that line, is reported to <see cref="RunFileHealth"/> and the
/// next line reopens the file and tries again: metrics are never a reason to stop training. A line torn by a failed
/// write is closed by a newline before the next one, and readers skip it as they skip a line torn by a crash.
/// </summary>
public sealed class MetricsWriter : IDisposable
{
    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private readonly string _path;
    private readonly RunFileHealth _health;
    private FileStream? _file;
    private bool _lineMayBeTorn;

    public MetricsWriter(string path, RunFileHealth? health = null)
    {
        _path = path;
        _health = health ?? new RunFileHealth();
        _file = Open(path); // a runs root that cannot be written at start is a start-up error, as before
    }

    /// <summary>Writes the line; false when it was dropped because the file cannot be written right now.</summary>
    public bool Write<T>(T record)
    {
        var line = (_lineMayBeTorn ? "\n" : "") + JsonSerializer.Serialize(record, JsonOptions) + "\n";
        try
        {
            _file ??= Open(_path);
            _file.Write(Encoding.UTF8.GetBytes(line));
            _lineMayBeTorn = false;
            _health.Succeeded(_path);
            return true;
        }
        catch (Exception e) when (RunFileHealth.IsWriteFailure(e))
        {
            _lineMayBeTorn = true;
            CloseQuietly();
            _health.Failed(_path, e);
            return false;
        }
    }

    public static string Serialize<T>(T record) => JsonSerializer.Serialize(record, JsonOptions);

    public void Dispose() => CloseQuietly();

    private static FileStream Open(string path) => new(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);

    private void CloseQuietly()
    {
        try { _file?.Dispose(); }
        catch (Exception e) when (RunFileHealth.IsWriteFailure(e)) { } // nothing is buffered (bufferSize 0); closing cannot lose a line
        _file = null;
    }
}

/// <summary>One line of metrics.jsonl in single-process training.</summary>
public sealed record TrainMetrics(
    long Step, long Updates, double TimeS, double StepsPerS, double UpdatesPerS,
    double? EpisodeReturn, long Episodes, double? EvalReturn, double? EvalReturnStd,
    double Alpha, double CriticLoss, double ActorLoss, double AlphaLoss, double MeanQ, double Entropy);
