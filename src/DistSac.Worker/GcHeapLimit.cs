namespace DistSac.Worker;

/// <summary>
/// Caps the GC heap of a worker process. Without a cap the gen-0 budget follows the CPU's cache size (tens of MB on
/// server parts), and a worker pushing thousands of batches a second fills it with garbage before each collection:
/// measured on the 2-core EPYC dev box, VmRSS 84 MB uncapped vs 74 MB with a 64 MB cap, same throughput. The live
/// set is a few MB (environments, one or two actors, two pooled batches), so the cap never binds on live data.
/// </summary>
public static class GcHeapLimit
{
    /// <summary>
    /// Applies a hard limit of <paramref name="mebibytes"/> unless the runtime already has a lower one (a container
    /// limit, DOTNET_GCHeapHardLimit). Returns the limit in force afterwards, in bytes. Process-wide: call it from a
    /// process entry point, never from a library used inside another process.
    /// </summary>
    public static long Apply(int mebibytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(mebibytes);
        long current = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        long requested = mebibytes * 1024L * 1024L;
        if (mebibytes == 0 || requested >= current)
        {
            return current;
        }

        // Read by GC.RefreshMemoryLimit (.NET 8+), the supported way to set GCHeapHardLimit after start-up.
        AppContext.SetData("GCHeapHardLimit", (ulong)requested);
        GC.RefreshMemoryLimit();
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }
}
