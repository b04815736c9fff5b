using System.Buffers.Binary;
using System.Numerics;

namespace DistSac.TensorBoard;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of TFRecord framing, and its masked form. System.IO.Hashing.Crc32 is the
/// IEEE polynomial, not this one; BitOperations.Crc32C is the Castagnoli step (SSE4.2 / ARMv8 crc32c instructions,
/// a software table elsewhere) without the initial and final inversion, which <see cref="Compute"/> adds.
/// </summary>
public static class MaskedCrc32C
{
    private const uint MaskDelta = 0xa282ead8;

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i, 8)));
        for (; i < data.Length; i++)
            crc = BitOperations.Crc32C(crc, data[i]);
        return ~crc;
    }

    /// <summary>TFRecord stores CRCs rotated and offset so that a CRC of data holding CRCs is not degenerate.</summary>
    public static uint Mask(uint crc) => ((crc >> 15) | (crc << 17)) + MaskDelta;

    public static uint ComputeMasked(ReadOnlySpan<byte> data) => Mask(Compute(data));
}
