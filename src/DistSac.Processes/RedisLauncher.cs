namespace DistSac.Processes;

/// <summary>
/// Throw-away redis-server processes for `distsac bench` (each a <see cref="RedisProcess"/>): free loopback ports, one
/// temp dir each, no persistence (`--save "" --appendonly no`). Started through <see cref="ProcessSpawner"/>, so the kernel kills them even if this
/// process is SIGKILLed; <see cref="DisposeAsync"/> stops them and deletes the dirs (also on errors and Ctrl-C).
/// Also runs redis-tools (redis-benchmark) the same way and reads a process's CPU time, for the benchmarks' profile.
/// </summary>
public sealed class RedisLauncher : IAsyncDisposable
{
    private static readonly IReadOnlyDictionary<string, string> NoEnvironment = new Dictionary<string, string>();

    private readonly ProcessSpawner _spawner = new();
    private readonly List<ChildProcess> _children = [];
    private readonly string _root = Path.Combine(Path.GetTempPath(), "distsac-bench-" + Guid.NewGuid().ToString("N")[..12]);
    private int _started;
    private int _disposed;

    public RedisLauncher() => Directory.CreateDirectory(_root);

    /// <summary>A started server: its "127.0.0.1:port" endpoint and pid (setpriv execs, so the pid is redis-server's own).</summary>
    public sealed record Server(string Endpoint, int Port, int Pid);

    /// <summary>Starts <paramref name="count"/> servers one after another (each waits for PING).</summary>
    public async Task<IReadOnlyList<Server>> StartAsync(int count, CancellationToken ct)
    {
        var servers = new List<Server>(count);
        for (int i = 0; i < count; i++) servers.Add(await StartOneAsync(ct).ConfigureAwait(false));
        return servers;
    }

    /// <summary>Starts one server and waits until it answers PING; retries with a new port if another process took it first.</summary>
    public async Task<Server> StartOneAsync(CancellationToken ct)
    {
        int index = Interlocked.Increment(ref _started);
        var server = await RedisProcess.StartAsync(_spawner, new RedisProcessSettings
        {
            Name = $"redis-{index}",
            Directory = Path.Combine(_root, $"redis-{index}"),
        }, ct).ConfigureAwait(false);
        lock (_children) _children.Add(server.Child);
        return new Server(server.Endpoint, server.Port, server.Pid);
    }

    /// <summary>
    /// Runs a short-lived tool (e.g. redis-benchmark) to completion and returns its output lines; stopped on timeout or
    /// cancellation. Null when the tool is not installed.
    /// </summary>
    public async Task<IReadOnlyList<string>?> RunToolAsync(string tool, IEnumerable<string> args, TimeSpan timeout, CancellationToken ct)
    {
        var executable = RedisProcess.TryResolveExecutable(tool);
        if (executable is null) return null;
        var lines = new List<string>();
        var name = $"{tool}-{Interlocked.Increment(ref _started)}";
        var child = await _spawner.StartAsync(name, executable, args, NoEnvironment, Path.Combine(_root, name + ".log"),
            (_, line) => { lock (lines) lines.Add(line); }).ConfigureAwait(false);
        try
        {
            await child.Exited.WaitAsync(timeout, ct).ConfigureAwait(false);
        }
        finally
        {
            await child.DisposeAsync().ConfigureAwait(false); // stops it first when still running
        }
        lock (lines) return [.. lines];
    }

    /// <summary>Stops every server (SIGTERM, then SIGKILL), then the spawner thread, then deletes the temp dirs.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        ChildProcess[] children;
        lock (_children) children = [.. _children];
        await Task.WhenAll(children.Select(c => c.StopAsync(TimeSpan.FromSeconds(5)))).ConfigureAwait(false);
        foreach (var c in children) await c.DisposeAsync().ConfigureAwait(false);
        // Only after the children are gone: the spawner thread's exit would SIGKILL them (parent-death signal).
        _spawner.Dispose();
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
