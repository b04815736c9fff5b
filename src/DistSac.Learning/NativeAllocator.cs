using System.Runtime.InteropServices;

namespace DistSac.Learning;

/// <summary>
/// glibc malloc settings for libtorch's CPU allocator, which has no caching: every op mallocs and frees its output.
/// With glibc's defaults, 256 KB+ activations go through mmap/munmap or a trimmed heap, so each update took ~470
/// minor page faults; raising the mmap and trim thresholds and sharing one arena between the two update streams cut
/// that to ~40 and made updates ~15% faster (docs/benchmarks.md).
/// </summary>
public static partial class NativeAllocator
{
    private const int MallocTrimThreshold = -1;
    private const int MallocMmapThreshold = -3;
    private const int MallocArenaMax = -8;
    private static int _applied;

    public static void Tune()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref _applied, 1) == 1) return;
        try
        {
            _ = Mallopt(MallocMmapThreshold, 64 << 20);
            _ = Mallopt(MallocTrimThreshold, 256 << 20);
            _ = Mallopt(MallocArenaMax, 1);
        }
        catch (DllNotFoundException) { }
        catch (EntryPointNotFoundException) { }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int parameter, int value);
}
