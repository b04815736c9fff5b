using System.Buffers.Binary;

namespace DistSac.Policy;

// Binary format (little-endian), shared with the learner:
//   "DSACACT1" | int32 formatVersion=1 | int64 policyVersion | int32 obsSize | int32 actionSize
//   | float32[actionSize] low | float32[actionSize] high | int32 layerCount
//   | per layer: int32 in, int32 out, float32[out*in] weight ([out, in] row-major), float32[out] bias
//   | uint32 CRC-32 of every preceding byte.
public sealed partial class ActorWeights
{
    public const int FormatVersion = 1;

    private static ReadOnlySpan<byte> Magic => "DSACACT1"u8;

    public byte[] ToBytes()
    {
        var bytes = new byte[SerializedLength];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>Bytes <see cref="WriteTo(Span{byte})"/> writes (the length of <see cref="ToBytes"/>).</summary>
    public int SerializedLength
    {
        get
        {
            long size = Magic.Length + 4 + 8 + 4 + 4 + 8L * ActionSize + 4 + 4;
            foreach (LinearLayerWeights layer in Layers)
            {
                size += 8 + 4L * (layer.Weight.Length + layer.Bias.Length);
            }

            if (size > Array.MaxLength)
            {
                throw new InvalidOperationException($"The actor needs {size} bytes, more than one array can hold.");
            }

            return (int)size;
        }
    }

    /// <summary>
    /// Writes the same bytes as <see cref="ToBytes"/> into the start of <paramref name="destination"/> (for a caller that
    /// reuses one buffer instead of a new large array per snapshot); returns the bytes written.
    /// </summary>
    public int WriteTo(Span<byte> destination)
    {
        int size = SerializedLength;
        if (destination.Length < size)
        {
            throw new ArgumentException($"destination has {destination.Length} bytes; this actor needs {size}.", nameof(destination));
        }

        Span<byte> bytes = destination[..size];
        var writer = new Writer(bytes);
        writer.Bytes(Magic);
        writer.Int32(FormatVersion);
        writer.Int64(Version);
        writer.Int32(ObservationSize);
        writer.Int32(ActionSize);
        writer.Floats(ActionLow);
        writer.Floats(ActionHigh);
        writer.Int32(Layers.Count);
        foreach (LinearLayerWeights layer in Layers)
        {
            writer.Int32(layer.InputSize);
            writer.Int32(layer.OutputSize);
            writer.Floats(layer.Weight);
            writer.Floats(layer.Bias);
        }

        writer.UInt32(Crc32.Compute(bytes[..writer.Position]));
        return size;
    }

    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(ToBytes());
    }

    /// <summary>
    /// Parses and verifies a snapshot. Structure is read first (so a short buffer reports truncation), then the
    /// CRC (so a corrupted byte is reported as corruption rather than as whatever value it happened to produce),
    /// then shapes and finiteness.
    /// </summary>
    public static ActorWeights FromBytes(ReadOnlySpan<byte> data)
    {
        if (data.Length < Magic.Length)
        {
            throw Invalid(Magic.StartsWith(data)
                ? $"Actor weights are truncated: {data.Length} bytes is shorter than the {Magic.Length}-byte magic."
                : $"Bad magic: expected the data to start with \"DSACACT1\" but it is only {data.Length} bytes and does not.");
        }

        if (!data.StartsWith(Magic))
        {
            throw Invalid($"Bad magic: expected \"DSACACT1\" but found bytes {Convert.ToHexString(data[..Magic.Length])}; this is not an actor weights file.");
        }

        var reader = new Reader(data, Magic.Length);
        int formatVersion = reader.Int32("format version");
        if (formatVersion != FormatVersion)
        {
            throw Invalid($"Unsupported actor weights format version {formatVersion}; this build reads version {FormatVersion}.");
        }

        long version = reader.Int64("policy version");
        int obsSize = reader.Int32("observation size");
        int actionSize = reader.Int32("action size");
        if (obsSize < 1 || actionSize < 1)
        {
            throw Invalid($"Shape mismatch: observation size {obsSize} and action size {actionSize} must both be positive.");
        }

        float[] low = reader.Floats(actionSize, "action low");
        float[] high = reader.Floats(actionSize, "action high");
        int layerCount = reader.Int32("layer count");
        if (layerCount < 1)
        {
            throw Invalid($"Shape mismatch: layer count is {layerCount}; an actor needs at least one layer.");
        }

        // Each layer takes at least 8 bytes, so a count beyond that is truncation or corruption; checking
        // before allocating keeps a flipped count from requesting gigabytes.
        if (layerCount > reader.Remaining / 8)
        {
            throw Invalid($"Actor weights are truncated: {layerCount} layers cannot fit in the remaining {reader.Remaining} bytes.");
        }

        var layers = new LinearLayerWeights[layerCount];
        for (int l = 0; l < layerCount; l++)
        {
            int input = reader.Int32($"layer {l} input size");
            int output = reader.Int32($"layer {l} output size");
            if (input < 1 || output < 1)
            {
                throw Invalid($"Shape mismatch: layer {l} is {input}->{output}; both sizes must be positive.");
            }

            float[] weight = reader.Floats((long)input * output, $"layer {l} weight");
            float[] bias = reader.Floats(output, $"layer {l} bias");
            layers[l] = new LinearLayerWeights(input, output, weight, bias);
        }

        int crcOffset = reader.Position;
        uint storedCrc = reader.UInt32("CRC");
        if (reader.Remaining != 0)
        {
            throw Invalid($"Actor weights have {reader.Remaining} unexpected bytes after the CRC (expected {crcOffset + 4} bytes in total, got {data.Length}).");
        }

        uint actualCrc = Crc32.Compute(data[..crcOffset]);
        if (actualCrc != storedCrc)
        {
            throw Invalid($"CRC mismatch: the file says 0x{storedCrc:X8} but its contents hash to 0x{actualCrc:X8}; the weights are corrupted.");
        }

        if (layers[0].InputSize != obsSize)
        {
            throw Invalid($"Shape mismatch: the header says observation size {obsSize} but layer 0 takes {layers[0].InputSize} inputs.");
        }

        string? problem = FindProblem(layers, low, high);
        if (problem is not null)
        {
            throw Invalid(problem);
        }

        return new ActorWeights(version, layers, low, high);
    }

    private static InvalidDataException Invalid(string message) => new(message);

    private ref struct Writer(Span<byte> destination)
    {
        private readonly Span<byte> _destination = destination;

        public int Position { get; private set; }

        public void Bytes(ReadOnlySpan<byte> value)
        {
            value.CopyTo(_destination[Position..]);
            Position += value.Length;
        }

        public void Int32(int value)
        {
            BinaryPrimitives.WriteInt32LittleEndian(_destination[Position..], value);
            Position += 4;
        }

        public void UInt32(uint value)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_destination[Position..], value);
            Position += 4;
        }

        public void Int64(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_destination[Position..], value);
            Position += 8;
        }

        public void Floats(float[] values)
        {
            Span<byte> target = _destination.Slice(Position, values.Length * 4);
            for (int i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(target[(i * 4)..], values[i]);
            }

            Position += target.Length;
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> data, int position)
    {
        private readonly ReadOnlySpan<byte> _data = data;

        public int Position { get; private set; } = position;

        public readonly int Remaining => _data.Length - Position;

        public int Int32(string what) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, what));

        public uint UInt32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));

        public long Int64(string what) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, what));

        public float[] Floats(long count, string what)
        {
            ReadOnlySpan<byte> source = Take(count * 4, what);
            var values = new float[count];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(i * 4)..]);
            }

            return values;
        }

        private ReadOnlySpan<byte> Take(long count, string what)
        {
            if (count > Remaining)
            {
                throw Invalid($"Actor weights are truncated: {what} needs {count} bytes at offset {Position} but only {Remaining} remain.");
            }

            ReadOnlySpan<byte> slice = _data.Slice(Position, (int)count);
            Position += (int)count;
            return slice;
        }
    }
}
