using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistSac.Policy;

/// <summary>Which instruction-set variant of the linear kernel to run; tests force each one.</summary>
internal enum KernelPath
{
    Scalar,
    Vector128,
    Vector256,

    // 4 samples x 32 outputs needs 16 accumulators + 4 weight vectors + 1 broadcast: only spill-free with the
    // 32 vector registers AVX-512 (EVEX) provides; with AVX2's 16 the JIT would spill and lose the gain.
    Vector256Wide,
}

/// <summary>
/// Batched fully connected layer y = act(x · Wᵀ + b) with Wᵀ stored [in, width] (width = outputs padded to a
/// multiple of 8 with zero columns, so no column tails exist). Register blocking: a tile of 4 samples x 16/32
/// outputs lives in vector registers for the whole reduction over inputs, so each loaded weight vector feeds 4
/// FMAs and each broadcast input feeds 2-4; that keeps the loop FMA-bound instead of load-bound.
/// On the 256-bit paths, rows left over from the 4-sample tiles (a one-env worker's only row) take a single-row
/// pass with more accumulators instead (LinearKernel.Row256.cs).
/// </summary>
internal static partial class LinearKernel
{
    public const int WidthAlignment = 8;

    public static KernelPath Best { get; } = SelectBest();

    public static int PadWidth(int outputs) => (outputs + WidthAlignment - 1) / WidthAlignment * WidthAlignment;

    /// <summary>Rows of x are <paramref name="xStride"/> apart, rows of y <paramref name="yStride"/> apart.</summary>
    public static void Forward(
        KernelPath path,
        ReadOnlySpan<float> x,
        int xStride,
        int rows,
        int inCount,
        ReadOnlySpan<float> weightT,
        ReadOnlySpan<float> bias,
        int width,
        Span<float> y,
        int yStride,
        bool relu)
    {
        if (rows == 0)
        {
            return;
        }

        // One check per layer call makes the unchecked ref arithmetic in the kernels safe.
        if (width % WidthAlignment != 0 || inCount < 1 || xStride < inCount || yStride < width
            || x.Length < ((long)(rows - 1) * xStride) + inCount
            || weightT.Length < (long)inCount * width || bias.Length < width
            || y.Length < ((long)(rows - 1) * yStride) + width)
        {
            throw new ArgumentException("Linear kernel buffers do not match the layer shape.");
        }

        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float wr = ref MemoryMarshal.GetReference(weightT);
        ref float br = ref MemoryMarshal.GetReference(bias);
        ref float yr = ref MemoryMarshal.GetReference(y);
        switch (path)
        {
            case KernelPath.Vector256Wide:
            case KernelPath.Vector256:
                Forward256(path == KernelPath.Vector256Wide, ref xr, xStride, rows, inCount, ref wr, ref br, width, ref yr, yStride, relu);
                break;
            case KernelPath.Vector128:
                Forward128(ref xr, xStride, rows, inCount, ref wr, ref br, width, ref yr, yStride, relu);
                break;
            default:
                ForwardScalar(ref xr, xStride, rows, inCount, ref wr, ref br, width, ref yr, yStride, relu);
                break;
        }
    }

    public static bool IsSupported(KernelPath path) => path switch
    {
        KernelPath.Vector256Wide => Vector256.IsHardwareAccelerated && Avx512F.VL.IsSupported,
        KernelPath.Vector256 => Vector256.IsHardwareAccelerated,
        KernelPath.Vector128 => Vector128.IsHardwareAccelerated,
        _ => true,
    };

    private static KernelPath SelectBest()
    {
        foreach (KernelPath path in (ReadOnlySpan<KernelPath>)[KernelPath.Vector256Wide, KernelPath.Vector256, KernelPath.Vector128])
        {
            if (IsSupported(path))
            {
                return path;
            }
        }

        return KernelPath.Scalar;
    }

    private static void ForwardScalar(
        ref float x, nint xStride, int rows, int inCount, ref float w, ref float bias, int width, ref float y, nint yStride, bool relu)
    {
        for (nint r = 0; r < rows; r++)
        {
            ref float xRow = ref Unsafe.Add(ref x, r * xStride);
            ref float yRow = ref Unsafe.Add(ref y, r * yStride);
            for (nint c = 0; c < width; c++)
            {
                float acc = Unsafe.Add(ref bias, c);
                for (nint i = 0; i < inCount; i++)
                {
                    // Plain multiply-add: MathF.FusedMultiplyAdd is emulated (slowly) exactly where this path runs.
                    acc += Unsafe.Add(ref xRow, i) * Unsafe.Add(ref w, (i * width) + c);
                }

                Unsafe.Add(ref yRow, c) = relu ? MathF.Max(acc, 0f) : acc;
            }
        }
    }
}
