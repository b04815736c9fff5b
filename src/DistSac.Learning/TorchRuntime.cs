using TorchSharp;
using static TorchSharp.torch;

namespace DistSac.Learning;

/// <summary>Device choice and thread settings for libtorch, in one place.</summary>
public static class TorchRuntime
{
    /// <summary>"auto" picks CUDA when torch.cuda.is_available(), else CPU; "cuda" without a GPU is an error.</summary>
    public static Device ResolveDevice(string choice)
    {
        switch (choice)
        {
            case "cpu": return CPU;
            case "cuda":
                if (!cuda.is_available()) throw new InvalidOperationException("Device 'cuda' was requested but torch.cuda.is_available() is false; use --device cpu or auto.");
                return CUDA;
            case "auto": return cuda.is_available() ? CUDA : CPU;
            default: throw new ArgumentException($"Unknown device '{choice}'; use auto, cpu or cuda.", nameof(choice));
        }
    }

    /// <summary>
    /// Threads for the learner. With >= 2 CPU threads the update runs as two concurrent op streams (critic half and
    /// actor half), each with half the threads for libtorch's intra-op pool; with 1 thread or on CUDA, one stream.
    /// One inter-op thread: the update is a chain of dependent ops, and extra pools only compete for the same cores.
    /// Returns (total threads, whether to use concurrent streams).
    /// </summary>
    private static int _interopConfigured;

    public static (int Threads, bool ConcurrentStreams) ConfigureThreads(int threads, Device? device = null)
    {
        NativeAllocator.Tune();
        var n = threads > 0 ? threads : Environment.ProcessorCount;
        bool concurrent = n >= 2 && (device is null || device.type == DeviceType.CPU);
        torch.set_num_threads(concurrent ? Math.Max(1, n / 2) : n);
        // libtorch aborts the process (an uncatchable C++ exception) if this is set twice or after parallel work began.
        if (Interlocked.Exchange(ref _interopConfigured, 1) == 0) torch.set_num_interop_threads(1);
        return (n, concurrent);
    }
}
