using System.Text;

namespace DistSac.Policy.Tests;

/// <summary>
/// Writes the actor weight format from its specification, independently of <see cref="ActorWeights.ToBytes"/>,
/// so tests can build valid files with inconsistent contents and check the production encoder byte for byte.
/// The CRC is the bitwise (table-free) definition of CRC-32/IEEE.
/// </summary>
internal sealed class ActorFileEncoder
{
    public string Magic { get; set; } = "DSACACT1";

    public int FormatVersion { get; set; } = 1;

    public long PolicyVersion { get; set; } = 3;

    public int ObservationSize { get; set; }

    public float[] Low { get; set; } = [];

    public float[] High { get; set; } = [];

    public List<(int In, int Out, float[] Weight, float[] Bias)> Layers { get; } = [];

    public static ActorFileEncoder From(ActorWeights weights)
    {
        var encoder = new ActorFileEncoder
        {
            PolicyVersion = weights.Version,
            ObservationSize = weights.ObservationSize,
            Low = (float[])weights.ActionLow.Clone(),
            High = (float[])weights.ActionHigh.Clone(),
        };
        foreach (LinearLayerWeights layer in weights.Layers)
        {
            encoder.Layers.Add((layer.InputSize, layer.OutputSize, (float[])layer.Weight.Clone(), (float[])layer.Bias.Clone()));
        }

        return encoder;
    }

    public byte[] Encode()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.ASCII, leaveOpen: true))
        {
            // BinaryWriter is little-endian on every platform, as the format requires.
            writer.Write(Encoding.ASCII.GetBytes(Magic));
            writer.Write(FormatVersion);
            writer.Write(PolicyVersion);
            writer.Write(ObservationSize);
            writer.Write(Low.Length);
            Array.ForEach(Low, writer.Write);
            Array.ForEach(High, writer.Write);
            writer.Write(Layers.Count);
            foreach ((int input, int output, float[] weight, float[] bias) in Layers)
            {
                writer.Write(input);
                writer.Write(output);
                Array.ForEach(weight, writer.Write);
                Array.ForEach(bias, writer.Write);
            }

            writer.Write(BitwiseCrc32(stream.ToArray()));
        }

        return stream.ToArray();
    }

    public static uint BitwiseCrc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
            }
        }

        return ~crc;
    }
}
