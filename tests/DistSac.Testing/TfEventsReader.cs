using System.Buffers.Binary;
using System.Text;

namespace DistSac.Testing;

/// <summary>One decoded tfevents record: the Event's step and wall time, and its summary values.</summary>
public sealed record TfEvent(double WallTime, long Step, string? FileVersion, IReadOnlyList<TfValue> Values);

/// <summary>A Summary.Value: a simple_value scalar, or a string tensor with its plugin name (text summaries).</summary>
public sealed record TfValue(string Tag, float? SimpleValue, string? Text, string? PluginName);

/// <summary>
/// Reads a TensorBoard event file without the writer's code: its own bitwise CRC32C and a hand-written protobuf
/// wire decoder for the few fields of TensorFlow's event.proto / summary.proto (Event: wall_time 1, step 2,
/// file_version 3, summary 5; Summary: value 1; Value: tag 1, simple_value 2, tensor 8, metadata 9; TensorProto:
/// string_val 8; SummaryMetadata: plugin_data 1; PluginData: plugin_name 1). Every CRC is checked; a bad one throws.
/// </summary>
public static class TfEventsReader
{
    public static List<TfEvent> ReadFile(string path) => Read(File.ReadAllBytes(path));

    /// <summary>The events of every file in a run's tb/ folder, in file-name order.</summary>
    public static List<TfEvent> ReadDirectory(string directory)
    {
        var events = new List<TfEvent>();
        var files = Directory.GetFiles(directory, "events.out.tfevents.*");
        Array.Sort(files, StringComparer.Ordinal);
        foreach (var f in files) events.AddRange(ReadFile(f));
        return events;
    }

    public static List<TfEvent> Read(byte[] bytes)
    {
        var events = new List<TfEvent>();
        int at = 0;
        while (at < bytes.Length)
        {
            if (bytes.Length - at < 12) throw new InvalidDataException($"truncated record header at byte {at}");
            var length = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at, 8));
            var lengthCrc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8, 4));
            if (lengthCrc != MaskedCrc(bytes.AsSpan(at, 8))) throw new InvalidDataException($"length CRC mismatch at byte {at}");
            at += 12;
            if ((ulong)(bytes.Length - at) < length + 4) throw new InvalidDataException($"truncated record data at byte {at}");
            var data = bytes.AsSpan(at, (int)length);
            var dataCrc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + (int)length, 4));
            if (dataCrc != MaskedCrc(data)) throw new InvalidDataException($"data CRC mismatch at byte {at}");
            events.Add(ParseEvent(data.ToArray()));
            at += (int)length + 4;
        }
        return events;
    }

    /// <summary>Bitwise CRC-32C (reflected polynomial 0x82F63B78), the slow textbook form on purpose.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return ~crc;
    }

    public static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        var crc = Crc32C(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }

    private static TfEvent ParseEvent(byte[] data)
    {
        double wall = 0; long step = 0; string? version = null;
        var values = new List<TfValue>();
        foreach (var (field, wire, number, payload) in Fields(data))
        {
            if (field == 1 && wire == 1) wall = BitConverter.Int64BitsToDouble((long)number);
            else if (field == 2 && wire == 0) step = (long)number;
            else if (field == 3 && wire == 2) version = Encoding.UTF8.GetString(payload);
            else if (field == 5 && wire == 2)
            {
                foreach (var (f, w, _, p) in Fields(payload))
                    if (f == 1 && w == 2) values.Add(ParseValue(p));
            }
        }
        return new TfEvent(wall, step, version, values);
    }

    private static TfValue ParseValue(byte[] data)
    {
        string tag = ""; float? simple = null; string? text = null; string? plugin = null;
        foreach (var (field, wire, number, payload) in Fields(data))
        {
            if (field == 1 && wire == 2) tag = Encoding.UTF8.GetString(payload);
            else if (field == 2 && wire == 5) simple = BitConverter.Int32BitsToSingle((int)number);
            else if (field == 8 && wire == 2)
            {
                foreach (var (f, w, _, p) in Fields(payload))
                    if (f == 8 && w == 2) text = Encoding.UTF8.GetString(p);
            }
            else if (field == 9 && wire == 2)
            {
                foreach (var (f, w, _, p) in Fields(payload))
                {
                    if (f != 1 || w != 2) continue;
                    foreach (var (f2, w2, _, p2) in Fields(p))
                        if (f2 == 1 && w2 == 2) plugin = Encoding.UTF8.GetString(p2);
                }
            }
        }
        return new TfValue(tag, simple, text, plugin);
    }

    /// <summary>Protobuf wire format: (field, wire type, varint/fixed value, length-delimited payload).</summary>
    private static IEnumerable<(int Field, int Wire, ulong Number, byte[] Payload)> Fields(byte[] data)
    {
        int at = 0;
        while (at < data.Length)
        {
            var key = Varint(data, ref at);
            int field = (int)(key >> 3), wire = (int)(key & 7);
            switch (wire)
            {
                case 0: yield return (field, wire, Varint(data, ref at), []); break;
                case 1: yield return (field, wire, BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(at, 8)), []); at += 8; break;
                case 5: yield return (field, wire, BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at, 4)), []); at += 4; break;
                case 2:
                    int length = (int)Varint(data, ref at);
                    yield return (field, wire, 0, data.AsSpan(at, length).ToArray());
                    at += length;
                    break;
                default: throw new InvalidDataException($"unexpected wire type {wire} for field {field}");
            }
        }
    }

    private static ulong Varint(byte[] data, ref int at)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
    }
}
