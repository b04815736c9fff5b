using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistSac.Policy;

// AVX2/AVX-512 tiles. MultiplyAddEstimate compiles to one vfmadd where FMA exists and to mul+add otherwise,
// unlike FusedMultiplyAdd, which would be emulated in software on a CPU without FMA.
internal static partial class LinearKernel
{
    private static void Forward256(
        bool wide, ref float x, nint xStride, int rows, int inCount, ref float w, ref float bias, int width, ref float y, nint yStride, bool relu)
    {
        nint c = 0;
        if (wide)
        {
            for (; c + 32 <= width; c += 32)
            {
                nint r = 0;
                for (; r + 4 <= rows; r += 4)
                {
                    Tile4x32(ref Unsafe.Add(ref x, r * xStride), xStride, inCount, ref Unsafe.Add(ref w, c), width,
                        ref Unsafe.Add(ref bias, c), ref Unsafe.Add(ref y, (r * yStride) + c), yStride, relu);
                }
            }
        }

        for (; c + 16 <= width; c += 16)
        {
            nint r = 0;
            for (; r + 4 <= rows; r += 4)
            {
                Tile4x16(ref Unsafe.Add(ref x, r * xStride), xStride, inCount, ref Unsafe.Add(ref w, c), width,
                    ref Unsafe.Add(ref bias, c), ref Unsafe.Add(ref y, (r * yStride) + c), yStride, relu);
            }
        }

        // At most one 8-wide column strip is left because width is a multiple of 8. It is the whole of a small
        // policy head (2A <= 8), so it gets a 4-sample tile too rather than a latency-bound single chain.
        if (c < width)
        {
            nint r = 0;
            for (; r + 4 <= rows; r += 4)
            {
                Tile4x8(ref Unsafe.Add(ref x, r * xStride), xStride, inCount, ref Unsafe.Add(ref w, c), width,
                    ref Unsafe.Add(ref bias, c), ref Unsafe.Add(ref y, (r * yStride) + c), yStride, relu);
            }
        }

        // The 0-3 rows left over (all of them for a worker stepping one env) go one row at a time over every column.
        for (nint r = rows & ~3; r < rows; r++)
        {
            Row256(ref Unsafe.Add(ref x, r * xStride), inCount, ref w, width, ref bias, width, ref Unsafe.Add(ref y, r * yStride), relu);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x32(ref float x, nint xs, int inCount, ref float w, nint ws, ref float bias, ref float y, nint ys, bool relu)
    {
        Vector256<float> b0 = Vector256.LoadUnsafe(ref bias), b1 = Vector256.LoadUnsafe(ref bias, 8);
        Vector256<float> b2 = Vector256.LoadUnsafe(ref bias, 16), b3 = Vector256.LoadUnsafe(ref bias, 24);
        Vector256<float> a00 = b0, a01 = b1, a02 = b2, a03 = b3, a10 = b0, a11 = b1, a12 = b2, a13 = b3;
        Vector256<float> a20 = b0, a21 = b1, a22 = b2, a23 = b3, a30 = b0, a31 = b1, a32 = b2, a33 = b3;
        ref float x1 = ref Unsafe.Add(ref x, xs);
        ref float x2 = ref Unsafe.Add(ref x, 2 * xs);
        ref float x3 = ref Unsafe.Add(ref x, 3 * xs);
        for (nint i = 0; i < inCount; i++)
        {
            Vector256<float> w0 = Vector256.LoadUnsafe(ref w), w1 = Vector256.LoadUnsafe(ref w, 8);
            Vector256<float> w2 = Vector256.LoadUnsafe(ref w, 16), w3 = Vector256.LoadUnsafe(ref w, 24);
            w = ref Unsafe.Add(ref w, ws);
            Vector256<float> s = Vector256.Create(Unsafe.Add(ref x, i));
            a00 = Vector256.MultiplyAddEstimate(s, w0, a00);
            a01 = Vector256.MultiplyAddEstimate(s, w1, a01);
            a02 = Vector256.MultiplyAddEstimate(s, w2, a02);
            a03 = Vector256.MultiplyAddEstimate(s, w3, a03);
            s = Vector256.Create(Unsafe.Add(ref x1, i));
            a10 = Vector256.MultiplyAddEstimate(s, w0, a10);
            a11 = Vector256.MultiplyAddEstimate(s, w1, a11);
            a12 = Vector256.MultiplyAddEstimate(s, w2, a12);
            a13 = Vector256.MultiplyAddEstimate(s, w3, a13);
            s = Vector256.Create(Unsafe.Add(ref x2, i));
            a20 = Vector256.MultiplyAddEstimate(s, w0, a20);
            a21 = Vector256.MultiplyAddEstimate(s, w1, a21);
            a22 = Vector256.MultiplyAddEstimate(s, w2, a22);
            a23 = Vector256.MultiplyAddEstimate(s, w3, a23);
            s = Vector256.Create(Unsafe.Add(ref x3, i));
            a30 = Vector256.MultiplyAddEstimate(s, w0, a30);
            a31 = Vector256.MultiplyAddEstimate(s, w1, a31);
            a32 = Vector256.MultiplyAddEstimate(s, w2, a32);
            a33 = Vector256.MultiplyAddEstimate(s, w3, a33);
        }

        Store4(ref y, relu, a00, a01, a02, a03);
        Store4(ref Unsafe.Add(ref y, ys), relu, a10, a11, a12, a13);
        Store4(ref Unsafe.Add(ref y, 2 * ys), relu, a20, a21, a22, a23);
        Store4(ref Unsafe.Add(ref y, 3 * ys), relu, a30, a31, a32, a33);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x16(ref float x, nint xs, int inCount, ref float w, nint ws, ref float bias, ref float y, nint ys, bool relu)
    {
        Vector256<float> b0 = Vector256.LoadUnsafe(ref bias), b1 = Vector256.LoadUnsafe(ref bias, 8);
        Vector256<float> a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
        ref float x1 = ref Unsafe.Add(ref x, xs);
        ref float x2 = ref Unsafe.Add(ref x, 2 * xs);
        ref float x3 = ref Unsafe.Add(ref x, 3 * xs);
        for (nint i = 0; i < inCount; i++)
        {
            Vector256<float> w0 = Vector256.LoadUnsafe(ref w), w1 = Vector256.LoadUnsafe(ref w, 8);
            w = ref Unsafe.Add(ref w, ws);
            Vector256<float> s = Vector256.Create(Unsafe.Add(ref x, i));
            a00 = Vector256.MultiplyAddEstimate(s, w0, a00);
            a01 = Vector256.MultiplyAddEstimate(s, w1, a01);
            s = Vector256.Create(Unsafe.Add(ref x1, i));
            a10 = Vector256.MultiplyAddEstimate(s, w0, a10);
            a11 = Vector256.MultiplyAddEstimate(s, w1, a11);
            s = Vector256.Create(Unsafe.Add(ref x2, i));
            a20 = Vector256.MultiplyAddEstimate(s, w0, a20);
            a21 = Vector256.MultiplyAddEstimate(s, w1, a21);
            s = Vector256.Create(Unsafe.Add(ref x3, i));
            a30 = Vector256.MultiplyAddEstimate(s, w0, a30);
            a31 = Vector256.MultiplyAddEstimate(s, w1, a31);
        }

        Store2(ref y, relu, a00, a01);
        Store2(ref Unsafe.Add(ref y, ys), relu, a10, a11);
        Store2(ref Unsafe.Add(ref y, 2 * ys), relu, a20, a21);
        Store2(ref Unsafe.Add(ref y, 3 * ys), relu, a30, a31);
    }

    // Even and odd inputs go to separate accumulators: 8 independent FMA chains instead of 4.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x8(ref float x, nint xs, int inCount, ref float w, nint ws, ref float bias, ref float y, nint ys, bool relu)
    {
        Vector256<float> a0 = Vector256.LoadUnsafe(ref bias), a1 = a0, a2 = a0, a3 = a0;
        Vector256<float> e0 = Vector256<float>.Zero, e1 = e0, e2 = e0, e3 = e0;
        ref float x1 = ref Unsafe.Add(ref x, xs);
        ref float x2 = ref Unsafe.Add(ref x, 2 * xs);
        ref float x3 = ref Unsafe.Add(ref x, 3 * xs);
        nint i = 0;
        for (; i + 2 <= inCount; i += 2)
        {
            Vector256<float> w0 = Vector256.LoadUnsafe(ref w), w1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref w, ws));
            w = ref Unsafe.Add(ref w, 2 * ws);
            a0 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x, i)), w0, a0);
            a1 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x1, i)), w0, a1);
            a2 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x2, i)), w0, a2);
            a3 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x3, i)), w0, a3);
            e0 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x, i + 1)), w1, e0);
            e1 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x1, i + 1)), w1, e1);
            e2 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x2, i + 1)), w1, e2);
            e3 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x3, i + 1)), w1, e3);
        }

        if (i < inCount)
        {
            Vector256<float> w0 = Vector256.LoadUnsafe(ref w);
            a0 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x, i)), w0, a0);
            a1 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x1, i)), w0, a1);
            a2 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x2, i)), w0, a2);
            a3 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x3, i)), w0, a3);
        }

        Store(ref y, relu, a0 + e0);
        Store(ref Unsafe.Add(ref y, ys), relu, a1 + e1);
        Store(ref Unsafe.Add(ref y, 2 * ys), relu, a2 + e2);
        Store(ref Unsafe.Add(ref y, 3 * ys), relu, a3 + e3);
    }

    // Single-sample tiles serve batch tails and batch 1; four (or two) independent accumulators hide FMA latency.
    private static void Tile1x32(ref float x, int inCount, ref float w, nint ws, ref float bias, ref float y, bool relu)
    {
        Vector256<float> a0 = Vector256.LoadUnsafe(ref bias), a1 = Vector256.LoadUnsafe(ref bias, 8);
        Vector256<float> a2 = Vector256.LoadUnsafe(ref bias, 16), a3 = Vector256.LoadUnsafe(ref bias, 24);
        for (nint i = 0; i < inCount; i++)
        {
            Vector256<float> s = Vector256.Create(Unsafe.Add(ref x, i));
            a0 = Vector256.MultiplyAddEstimate(s, Vector256.LoadUnsafe(ref w), a0);
            a1 = Vector256.MultiplyAddEstimate(s, Vector256.LoadUnsafe(ref w, 8), a1);
            a2 = Vector256.MultiplyAddEstimate(s, Vector256.LoadUnsafe(ref w, 16), a2);
            a3 = Vector256.MultiplyAddEstimate(s, Vector256.LoadUnsafe(ref w, 24), a3);
            w = ref Unsafe.Add(ref w, ws);
        }

        Store4(ref y, relu, a0, a1, a2, a3);
    }

    private static void Tile1x16(ref float x, int inCount, ref float w, nint ws, ref float bias, ref float y, bool relu)
    {
        Vector256<float> a0 = Vector256.LoadUnsafe(ref bias), a1 = Vector256.LoadUnsafe(ref bias, 8);
        for (nint i = 0; i < inCount; i++)
        {
            Vector256<float> s = Vector256.Create(Unsafe.Add(ref x, i));
            a0 = Vector256.MultiplyAddEstimate(s, Vector256.LoadUnsafe(ref w), a0);
            a1 = Vector256.MultiplyAddEstimate(s, Vector256.LoadUnsafe(ref w, 8), a1);
            w = ref Unsafe.Add(ref w, ws);
        }

        Store2(ref y, relu, a0, a1);
    }


    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(ref float y, bool relu, Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3)
    {
        Store2(ref y, relu, a0, a1);
        Store2(ref Unsafe.Add(ref y, 16), relu, a2, a3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store2(ref float y, bool relu, Vector256<float> a0, Vector256<float> a1)
    {
        Store(ref y, relu, a0);
        Store(ref Unsafe.Add(ref y, 8), relu, a1);
    }

    // MaxNative is a single vmaxps; the accumulators cannot be NaN for finite weights and inputs, so the
    // IEEE NaN handling Vector256.Max adds would only cost instructions.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref float y, bool relu, Vector256<float> a)
    {
        (relu ? Vector256.MaxNative(a, Vector256<float>.Zero) : a).StoreUnsafe(ref y);
    }
}
