namespace DistSac.Learning;

/// <summary>
/// A dedicated thread that runs the critic half of an update while the caller runs the actor half. On a 2-core CPU,
/// two single-threaded op streams beat libtorch splitting every small op across 2 threads (measured: see
/// docs/benchmarks.md), because ops at batch 256 are too short to amortise the fork/join of intra-op parallelism.
/// </summary>
internal sealed class CriticStream : IDisposable
{
    private readonly Thread _thread;
    private readonly SemaphoreSlim _start = new(0);
    private readonly ManualResetEventSlim _done = new(false);
    private Action? _work;
    private Exception? _error;
    private volatile bool _stopping;

    public CriticStream()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "sac-critic-stream" };
        _thread.Start();
    }

    public void Start(Action work)
    {
        _work = work;
        _error = null;
        _done.Reset();
        _start.Release();
    }

    /// <summary>Waits for the work started by <see cref="Start"/>; rethrows its exception on the caller's thread.</summary>
    public void Wait()
    {
        _done.Wait();
        if (_error is { } e) throw new InvalidOperationException("The critic update failed: " + e.Message, e);
    }

    private void Loop()
    {
        while (true)
        {
            _start.Wait();
            if (_stopping) return;
            try { _work!(); }
            catch (Exception e) { _error = e; }
            finally { _done.Set(); }
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _start.Release();
        _thread.Join();
        _start.Dispose();
        _done.Dispose();
    }
}
