using System.Buffers.Binary;
using System.Text;
using DistSac.TensorBoard.Proto;
using Google.Protobuf;

namespace DistSac.TensorBoard;

/// <summary>
/// Writes one TensorBoard event file (events.out.tfevents.&lt;unix seconds&gt;.&lt;host&gt;) in a run's tb/ folder.
/// Each record is TFRecord-framed: uint64 length (LE), masked CRC32C of those 8 bytes, the serialized Event, masked
/// CRC32C of the Event. Every write is flushed to the OS, so a live TensorBoard follows the run and a crash loses
/// nothing already written; writes happen once per metrics line, so the flush costs nothing that matters.
/// </summary>
public sealed class EventFileWriter : IDisposable
{
    public const string FileVersion = "brain.Event:2";
    public const string TextPluginName = "text";

    private readonly FileStream _file;
    private readonly TimeProvider _time;
    private readonly byte[] _header = new byte[12];
    private readonly byte[] _footer = new byte[4];

    private EventFileWriter(FileStream file, TimeProvider time)
    {
        _file = file;
        _time = time;
        WriteEvent(new Event { WallTime = WallTime(), FileVersion = FileVersion });
    }

    public string Path => _file.Name;

    /// <summary>Creates &lt;directory&gt;/events.out.tfevents.&lt;unix seconds&gt;.&lt;host&gt; (the folder too).</summary>
    public static EventFileWriter Create(string directory, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        Directory.CreateDirectory(directory);
        var seconds = time.GetUtcNow().ToUnixTimeSeconds();
        var name = $"events.out.tfevents.{seconds}.{Environment.MachineName}";
        var path = System.IO.Path.Combine(directory, name);
        // A second writer in the same second (a restarted learner) must not append to or clobber the first file.
        for (int i = 1; File.Exists(path); i++) path = System.IO.Path.Combine(directory, $"{name}.{i}");
        return new EventFileWriter(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read), time);
    }

    /// <summary>One event holding every scalar of <paramref name="scalars"/> at x = <paramref name="step"/>.</summary>
    public void WriteScalars(long step, ScalarSet scalars)
    {
        ArgumentNullException.ThrowIfNull(scalars);
        if (scalars.Count == 0) return;
        var summary = new Summary();
        foreach (var (tag, value) in scalars) summary.Value.Add(new Summary.Types.Value { Tag = tag, SimpleValue = (float)value });
        WriteEvent(new Event { WallTime = WallTime(), Step = step, Summary = summary });
    }

    /// <summary>Markdown shown by TensorBoard's Text tab: a string tensor tagged for the "text" plugin.</summary>
    public void WriteText(string tag, string markdown, long step = 0)
    {
        var tensor = new TensorProto { Dtype = DataType.DtString, TensorShape = new TensorShapeProto() };
        tensor.StringVal.Add(ByteString.CopyFrom(markdown, Encoding.UTF8));
        var value = new Summary.Types.Value
        {
            Tag = tag,
            Tensor = tensor,
            Metadata = new SummaryMetadata { PluginData = new SummaryMetadata.Types.PluginData { PluginName = TextPluginName } },
        };
        WriteEvent(new Event { WallTime = WallTime(), Step = step, Summary = new Summary { Value = { value } } });
    }

    private double WallTime() => _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    private void WriteEvent(Event e)
    {
        var data = e.ToByteArray();
        BinaryPrimitives.WriteUInt64LittleEndian(_header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(_header.AsSpan(8), MaskedCrc32C.ComputeMasked(_header.AsSpan(0, 8)));
        BinaryPrimitives.WriteUInt32LittleEndian(_footer, MaskedCrc32C.ComputeMasked(data));
        _file.Write(_header);
        _file.Write(data);
        _file.Write(_footer);
        _file.Flush();
    }

    public void Dispose() => _file.Dispose();
}
