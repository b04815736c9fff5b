using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistSac.Policy;

// Fallback for CPUs without 256-bit vectors, notably ARM64 (NEON) rollout hosts: 4 samples x 8 outputs as
// two 128-bit vectors per sample, the same register-blocking idea at half the width.
internal static partial class LinearKernel
{
    private static void Forward128(
        ref float x, nint xStride, int rows, int inCount, ref float w, ref float bias, int width, ref float y, nint yStride, bool relu)
    {
        for (nint c = 0; c < width; c += 8)
        {
            nint r = 0;
            for (; r + 4 <= rows; r += 4)
            {
                Tile128x4x8(ref Unsafe.Add(ref x, r * xStride), xStride, inCount, ref Unsafe.Add(ref w, c), width,
                    ref Unsafe.Add(ref bias, c), ref Unsafe.Add(ref y, (r * yStride) + c), yStride, relu);
            }

            for (; r < rows; r++)
            {
                Tile128x1x8(ref Unsafe.Add(ref x, r * xStride), inCount, ref Unsafe.Add(ref w, c), width,
                    ref Unsafe.Add(ref bias, c), ref Unsafe.Add(ref y, (r * yStride) + c), relu);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile128x4x8(ref float x, nint xs, int inCount, ref float w, nint ws, ref float bias, ref float y, nint ys, bool relu)
    {
        Vector128<float> b0 = Vector128.LoadUnsafe(ref bias), b1 = Vector128.LoadUnsafe(ref bias, 4);
        Vector128<float> a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
        ref float x1 = ref Unsafe.Add(ref x, xs);
        ref float x2 = ref Unsafe.Add(ref x, 2 * xs);
        ref float x3 = ref Unsafe.Add(ref x, 3 * xs);
        for (nint i = 0; i < inCount; i++)
        {
            Vector128<float> w0 = Vector128.LoadUnsafe(ref w), w1 = Vector128.LoadUnsafe(ref w, 4);
            w = ref Unsafe.Add(ref w, ws);
            Vector128<float> s = Vector128.Create(Unsafe.Add(ref x, i));
            a00 = Vector128.MultiplyAddEstimate(s, w0, a00);
            a01 = Vector128.MultiplyAddEstimate(s, w1, a01);
            s = Vector128.Create(Unsafe.Add(ref x1, i));
            a10 = Vector128.MultiplyAddEstimate(s, w0, a10);
            a11 = Vector128.MultiplyAddEstimate(s, w1, a11);
            s = Vector128.Create(Unsafe.Add(ref x2, i));
            a20 = Vector128.MultiplyAddEstimate(s, w0, a20);
            a21 = Vector128.MultiplyAddEstimate(s, w1, a21);
            s = Vector128.Create(Unsafe.Add(ref x3, i));
            a30 = Vector128.MultiplyAddEstimate(s, w0, a30);
            a31 = Vector128.MultiplyAddEstimate(s, w1, a31);
        }

        Store128(ref y, relu, a00, a01);
        Store128(ref Unsafe.Add(ref y, ys), relu, a10, a11);
        Store128(ref Unsafe.Add(ref y, 2 * ys), relu, a20, a21);
        Store128(ref Unsafe.Add(ref y, 3 * ys), relu, a30, a31);
    }

    private static void Tile128x1x8(ref float x, int inCount, ref float w, nint ws, ref float bias, ref float y, bool relu)
    {
        Vector128<float> a0 = Vector128.LoadUnsafe(ref bias), a1 = Vector128.LoadUnsafe(ref bias, 4);
        for (nint i = 0; i < inCount; i++)
        {
            Vector128<float> s = Vector128.Create(Unsafe.Add(ref x, i));
            a0 = Vector128.MultiplyAddEstimate(s, Vector128.LoadUnsafe(ref w), a0);
            a1 = Vector128.MultiplyAddEstimate(s, Vector128.LoadUnsafe(ref w, 4), a1);
            w = ref Unsafe.Add(ref w, ws);
        }

        Store128(ref y, relu, a0, a1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store128(ref float y, bool relu, Vector128<float> a0, Vector128<float> a1)
    {
        (relu ? Vector128.MaxNative(a0, Vector128<float>.Zero) : a0).StoreUnsafe(ref y);
        (relu ? Vector128.MaxNative(a1, Vector128<float>.Zero) : a1).StoreUnsafe(ref y, 4);
    }
}
