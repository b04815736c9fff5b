using System.Buffers.Binary;
using DistSac.Policy;

namespace DistSac.Learning.Training;

/// <summary>
/// A payload framed with its length and CRC-32: magic "DSACCKPT", payload length (int64 LE), CRC-32 of the payload
/// (uint32 LE, zlib's), then the payload. A flipped byte, a truncated or padded file, or another file type is detected
/// before a single value is restored.
/// </summary>
public static class ChecksummedFile
{
    public static ReadOnlySpan<byte> Magic => "DSACCKPT"u8;
    public const int HeaderBytes = 8 + 8 + 4;

    public static void Write(Stream destination, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], Crc32.Compute(payload));
        destination.Write(header);
        destination.Write(payload);
    }

    /// <summary>True when <paramref name="file"/> starts with this format's magic (it may still be damaged).</summary>
    public static bool IsFramed(ReadOnlySpan<byte> file) => file.Length >= Magic.Length && file[..Magic.Length].SequenceEqual(Magic);

    /// <summary>The verified payload of a framed file.</summary>
    /// <exception cref="InvalidDataException">Bad magic, a length that does not match the file (truncated), or a CRC mismatch.</exception>
    public static ArraySegment<byte> Payload(byte[] file)
    {
        if (!IsFramed(file)) throw new InvalidDataException("bad magic (not a DistSac checkpoint, or its first bytes are damaged)");
        if (file.Length < HeaderBytes) throw new InvalidDataException($"truncated: {file.Length} bytes, shorter than the {HeaderBytes}-byte header");
        long length = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(8));
        uint expected = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(16));
        long actual = file.Length - HeaderBytes;
        if (length != actual)
            throw new InvalidDataException(length > actual
                ? $"truncated: the header promises {length} payload bytes, the file holds {actual}"
                : $"{actual - length} unexpected bytes after the {length}-byte payload");
        var payload = new ArraySegment<byte>(file, HeaderBytes, (int)actual);
        uint crc = Crc32.Compute(payload);
        if (crc != expected) throw new InvalidDataException($"checksum mismatch (CRC-32 {crc:x8}, header says {expected:x8}): the file is damaged");
        return payload;
    }
}
