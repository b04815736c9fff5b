namespace DistSac.Policy;

/// <summary>
/// A float buffer whose first element sits on a 64-byte boundary, so each 16-float weight row chunk the kernel
/// loads is one cache line rather than a split across two. Measured on Zen 4 (3->256->256->2 actor): a buffer
/// misaligned by 4 bytes ran batch 32 about 15% slower and batch 1 about 2x slower. The array lives on the pinned
/// object heap, so the alignment computed once stays valid (the GC never moves it).
/// </summary>
internal sealed class AlignedFloats
{
    private const int AlignmentBytes = 64;
    private readonly float[] _array;
    private readonly int _offset;

    public unsafe AlignedFloats(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _array = GC.AllocateArray<float>(length + (AlignmentBytes / sizeof(float)), pinned: true);
        fixed (float* start = _array)
        {
            int misalignment = (int)((nint)start & (AlignmentBytes - 1));
            _offset = ((AlignmentBytes - misalignment) & (AlignmentBytes - 1)) / sizeof(float);
        }

        Length = length;
    }

    public int Length { get; }

    public Span<float> Span => _array.AsSpan(_offset, Length);
}
