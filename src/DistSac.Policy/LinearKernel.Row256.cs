using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistSac.Policy;

// One sample at a time (a worker stepping one env acts on one observation per step). A lone row has no other rows
// to reuse a weight load for, so its speed is set by the FMA latency (4 cycles): 4 accumulators over a 32-output
// strip keep one FMA in flight per cycle, half of what two FMA pipes take. Eight accumulators over 64 outputs fill
// both, and one pass reads each Wᵀ row (all `width` outputs of input i) front to back, which the prefetcher follows
// when the weights come from memory rather than cache. Each output still sums its inputs in order, so the 64-, 32-
// and 16-wide tiles give the same bits as before; only the last 8-wide strip splits its sum over 4 chains.
internal static partial class LinearKernel
{
    private static void Row256(ref float x, int inCount, ref float w, nint ws, ref float bias, int width, ref float y, bool relu)
    {
        nint c = 0;
        for (; c + 64 <= width; c += 64)
        {
            Tile1x64(ref x, inCount, ref Unsafe.Add(ref w, c), ws, ref Unsafe.Add(ref bias, c), ref Unsafe.Add(ref y, c), relu);
        }

        if (c + 32 <= width)
        {
            Tile1x32(ref x, inCount, ref Unsafe.Add(ref w, c), ws, ref Unsafe.Add(ref bias, c), ref Unsafe.Add(ref y, c), relu);
            c += 32;
        }

        if (c + 16 <= width)
        {
            Tile1x16(ref x, inCount, ref Unsafe.Add(ref w, c), ws, ref Unsafe.Add(ref bias, c), ref Unsafe.Add(ref y, c), relu);
            c += 16;
        }

        if (c < width)
        {
            Tile1x8(ref x, inCount, ref Unsafe.Add(ref w, c), ws, ref Unsafe.Add(ref bias, c), ref Unsafe.Add(ref y, c), relu);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile1x64(ref float x, int inCount, ref float w, nint ws, ref float bias, ref float y, bool relu)
    {
        Vector256<float> a0 = Vector256.LoadUnsafe(ref bias), a1 = Vector256.LoadUnsafe(ref bias, 8);
        Vector256<float> a2 = Vector256.LoadUnsafe(ref bias, 16), a3 = Vector256.LoadUnsafe(ref bias, 24);
        Vector256<float> a4 = Vector256.LoadUnsafe(ref bias, 32), a5 = Vector256.LoadUnsafe(ref bias, 40);
        Vector256<float> a6 = Vector256.LoadUnsafe(ref bias, 48), a7 = Vector256.LoadUnsafe(ref bias, 56);
        for (nint i = 0; i < inCount; i++)
        {
            Vector256<float> s = Vector256.Create(Unsafe.Add(ref x, i));
            a0 = Vector256.MultiplyAddEstimate(s, Vector256.LoadUnsafe(ref w), a0);
            a1 = Vector256.MultiplyAddEstimate(s, Vector256.LoadUnsafe(ref w, 8), a1);
            a2 = Vector256.MultiplyAddEstimate(s, Vector256.LoadUnsafe(ref w, 16), a2);
            a3 = Vector256.MultiplyAddEstimate(s, Vector256.LoadUnsafe(ref w, 24), a3);
            a4 = Vector256.MultiplyAddEstimate(s, Vector256.LoadUnsafe(ref w, 32), a4);
            a5 = Vector256.MultiplyAddEstimate(s, Vector256.LoadUnsafe(ref w, 40), a5);
            a6 = Vector256.MultiplyAddEstimate(s, Vector256.LoadUnsafe(ref w, 48), a6);
            a7 = Vector256.MultiplyAddEstimate(s, Vector256.LoadUnsafe(ref w, 56), a7);
            w = ref Unsafe.Add(ref w, ws);
        }

        Store4(ref y, relu, a0, a1, a2, a3);
        Store4(ref Unsafe.Add(ref y, 32), relu, a4, a5, a6, a7);
    }

    // The policy head (2A <= 8 outputs) is one 8-wide strip: inputs i mod 4 go to 4 chains, summed at the end.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile1x8(ref float x, int inCount, ref float w, nint ws, ref float bias, ref float y, bool relu)
    {
        Vector256<float> a0 = Vector256.LoadUnsafe(ref bias), a1 = Vector256<float>.Zero, a2 = a1, a3 = a1;
        nint i = 0;
        for (; i + 4 <= inCount; i += 4)
        {
            a0 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x, i)), Vector256.LoadUnsafe(ref w), a0);
            a1 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x, i + 1)), Vector256.LoadUnsafe(ref Unsafe.Add(ref w, ws)), a1);
            a2 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x, i + 2)), Vector256.LoadUnsafe(ref Unsafe.Add(ref w, 2 * ws)), a2);
            a3 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x, i + 3)), Vector256.LoadUnsafe(ref Unsafe.Add(ref w, 3 * ws)), a3);
            w = ref Unsafe.Add(ref w, 4 * ws);
        }

        for (; i < inCount; i++)
        {
            a0 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x, i)), Vector256.LoadUnsafe(ref w), a0);
            w = ref Unsafe.Add(ref w, ws);
        }

        Store(ref y, relu, (a0 + a1) + (a2 + a3));
    }
}
