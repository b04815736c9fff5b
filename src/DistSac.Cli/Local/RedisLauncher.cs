using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DistSac.Cli.Local;

/// <summary>
/// Throw-away redis-server processes for `distsac bench`: free loopback ports, one temp dir each, no persistence
/// (`--save "" --appendonly no`). Started through <see cref="ProcessSpawner"/>, so the kernel kills them even if this
/// process is SIGKILLed; <see cref="DisposeAsync"/> stops them and deletes the dirs (also on errors and Ctrl-C).
/// Also runs redis-tools (redis-benchmark) the same way and reads a process's CPU time, for the benchmarks' profile.
/// </summary>
public sealed class RedisLauncher : IAsyncDisposable
{
    private const int StartAttempts = 3;
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
        var executable = Resolve("redis-server") ?? throw new FileNotFoundException("redis-server was not found (/usr/bin or PATH); install it (make deps, or apt-get install redis-server).");
        Exception? last = null;
        for (int attempt = 0; attempt < StartAttempts; attempt++)
        {
            int index = Interlocked.Increment(ref _started);
            int port = FreePort();
            var dir = Directory.CreateDirectory(Path.Combine(_root, $"redis-{index}")).FullName;
            string[] args = ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", dir,
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"];
            var log = Path.Combine(dir, "redis.log");
            var child = await _spawner.StartAsync($"redis-{index}", executable, args, NoEnvironment, log, (_, _) => { }).ConfigureAwait(false);
            lock (_children) _children.Add(child);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!child.HasExited && DateTime.UtcNow < deadline)
            {
                if (await PingAsync(port, ct).ConfigureAwait(false)) return new Server($"127.0.0.1:{port}", port, child.Pid);
                await Task.Delay(50, ct).ConfigureAwait(false);
            }
            await child.StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            last = new InvalidOperationException($"redis-server on 127.0.0.1:{port} did not answer PING within 10 s; see {log}");
        }
        throw last!;
    }

    /// <summary>
    /// Runs a short-lived tool (e.g. redis-benchmark) to completion and returns its output lines; stopped on timeout or
    /// cancellation. Null when the tool is not installed.
    /// </summary>
    public async Task<IReadOnlyList<string>?> RunToolAsync(string tool, IEnumerable<string> args, TimeSpan timeout, CancellationToken ct)
    {
        var executable = Resolve(tool);
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

    /// <summary>/usr/bin first (where the host set-up installs redis), then PATH.</summary>
    private static string? Resolve(string tool)
    {
        foreach (var dir in new[] { "/usr/bin" }.Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)))
        {
            var path = Path.Combine(dir, tool);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<bool> PingAsync(int port, CancellationToken ct)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, ct).ConfigureAwait(false);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), ct).ConfigureAwait(false);
            var buffer = new byte[16];
            int n = await stream.ReadAsync(buffer, ct).ConfigureAwait(false);
            return Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException) { return false; }
        catch (IOException) { return false; }
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
