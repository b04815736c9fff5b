using System.Collections.Concurrent;

namespace DistSac.Processes;

/// <summary>
/// Starts every child from one dedicated thread that lives as long as the orchestrator: Linux delivers a child's
/// parent-death signal when the thread that forked it exits, so children forked from short-lived thread-pool
/// threads could be killed spuriously.
/// </summary>
public sealed class ProcessSpawner : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;

    public ProcessSpawner()
    {
        _thread = new Thread(() => { foreach (var a in _work.GetConsumingEnumerable()) a(); }) { IsBackground = true, Name = "child-spawner" };
        _thread.Start();
    }

    /// <param name="niceIncrement">Added to the child's nice value (0-19): a lower CPU priority than this process's.</param>
    public Task<ChildProcess> StartAsync(string name, string fileName, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment,
        string logPath, Action<string, string> onLine, int niceIncrement = 0)
    {
        var done = new TaskCompletionSource<ChildProcess>(TaskCreationOptions.RunContinuationsAsynchronously);
        var argList = args.ToList();
        _work.Add(() =>
        {
            try { done.SetResult(ChildProcess.Start(name, fileName, argList, environment, logPath, onLine, niceIncrement)); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task;
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        // The thread must outlive the children; the orchestrator disposes this last, after stopping them.
        _thread.Join();
        _work.Dispose();
    }
}
