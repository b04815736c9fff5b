namespace DistSac.Replay;

/// <summary>Which threads read a process's Redis replies (StackExchange.Redis's SocketManager).</summary>
public enum ShardReaderThreads
{
    /// <summary>
    /// StackExchange.Redis's shared dedicated reader threads: replies are read even while the .NET thread pool is busy
    /// or blocked. Each reply then hops from a reader thread to the pool, one thread wake-up more per command.
    /// </summary>
    Dedicated,

    /// <summary>
    /// The .NET thread pool reads the replies, with no hop through a dedicated thread. For processes that never block
    /// a pool thread (the gateway is async throughout): on the gateway at 1k transitions/s it halved the thread
    /// wake-ups (405 to 188 per second) and cut its CPU by about a quarter (docs/benchmarks.md, issue 11 goal 2).
    /// </summary>
    ThreadPool,
}
