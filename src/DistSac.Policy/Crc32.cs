namespace DistSac.Policy;

/// <summary>
/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the same checksum as zlib and Python's
/// <c>zlib.crc32</c>, so a learner in any language can produce matching files. Written here because
/// System.IO.Hashing is not available to this project. Public so the learner checkpoint uses the same checksum.
/// </summary>
public static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        uint[] table = Table;
        foreach (byte b in data)
        {
            crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
