using System.Text;
using DistSac.TensorBoard;

namespace DistSac.Learning.Training;

/// <summary>
/// The run's TensorBoard event file (runs/&lt;id&gt;/tb/): opened after config.json is written, whose text becomes the
/// "config" text summary, so TensorBoard shows with each curve the settings that made it.
/// </summary>
public static class RunEventFile
{
    public const string ConfigTag = "config";

    public static EventFileWriter Open(RunDirectory run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var writer = EventFileWriter.Create(run.TensorBoardDirectory);
        if (File.Exists(run.ConfigPath)) writer.WriteText(ConfigTag, CodeBlock(File.ReadAllText(run.ConfigPath)));
        return writer;
    }

    /// <summary>The text plugin renders Markdown; a four-space indent keeps the JSON verbatim and monospaced.</summary>
    public static string CodeBlock(string text)
    {
        var block = new StringBuilder(text.Length + 64);
        foreach (var line in text.ReplaceLineEndings("\n").Split('\n')) block.Append("    ").Append(line).Append('\n');
        return block.ToString();
    }
}
