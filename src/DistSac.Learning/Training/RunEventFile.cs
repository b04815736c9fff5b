using System.Text;
using DistSac.TensorBoard;

namespace DistSac.Learning.Training;

/// <summary>
/// The run's TensorBoard event file (runs/&lt;id&gt;/tb/): opened after config.json is written, whose text becomes the
/// "config" text summary, so TensorBoard shows with each curve the settings that made it. Best effort like
/// metrics.jsonl: a failed write (full disk, read-only folder) closes the file, is reported to
/// <see cref="RunFileHealth"/>, and the next write starts a new event file in the same folder (TensorBoard reads every
/// event file of a folder, and a record torn at the end of the old file only ends that file).
/// </summary>
public sealed class RunEventFile : IDisposable
{
    public const string ConfigTag = "config";

    private readonly string _directory;
    private readonly RunFileHealth _health;
    private EventFileWriter? _writer;

    private RunEventFile(string directory, RunFileHealth health, EventFileWriter writer)
    {
        _directory = directory;
        _health = health;
        _writer = writer;
    }

    /// <summary>The event file being written, or null while the folder cannot be written.</summary>
    public string? Path => _writer?.Path;

    /// <summary>Opens the first event file; a folder that cannot be written at start is a start-up error.</summary>
    public static RunEventFile Open(RunDirectory run, RunFileHealth? health = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        var writer = EventFileWriter.Create(run.TensorBoardDirectory);
        if (File.Exists(run.ConfigPath)) writer.WriteText(ConfigTag, CodeBlock(File.ReadAllText(run.ConfigPath)));
        return new RunEventFile(run.TensorBoardDirectory, health ?? new RunFileHealth(), writer);
    }

    /// <summary>Writes one event of scalars; false when it was dropped because the folder cannot be written now.</summary>
    public bool WriteScalars(long step, ScalarSet scalars)
    {
        try
        {
            _writer ??= EventFileWriter.Create(_directory);
            _writer.WriteScalars(step, scalars);
            _health.Succeeded(_directory);
            return true;
        }
        catch (Exception e) when (RunFileHealth.IsWriteFailure(e))
        {
            CloseQuietly();
            _health.Failed(_directory, e);
            return false;
        }
    }

    public void Dispose() => CloseQuietly();

    private void CloseQuietly()
    {
        try { _writer?.Dispose(); }
        catch (Exception e) when (RunFileHealth.IsWriteFailure(e)) { } // every record was flushed when written
        _writer = null;
    }

    /// <summary>The text plugin renders Markdown; a four-space indent keeps the JSON verbatim and monospaced.</summary>
    public static string CodeBlock(string text)
    {
        var block = new StringBuilder(text.Length + 64);
        foreach (var line in text.ReplaceLineEndings("\n").Split('\n')) block.Append("    ").Append(line).Append('\n');
        return block.ToString();
    }
}
