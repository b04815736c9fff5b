using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DistSac.Processes;

/// <summary>How to start one redis-server (see <see cref="RedisProcess"/>).</summary>
public sealed record RedisProcessSettings
{
    /// <summary>Data directory (--dir); created if missing. The log goes into it unless <see cref="LogPath"/> is set.</summary>
    public required string Directory { get; init; }

    /// <summary>"redis-server" (looked up in /usr/bin, then PATH) or a path.</summary>
    public string Executable { get; init; } = RedisProcess.DefaultExecutable;

    /// <summary>Child name in logs and errors, e.g. "redis-0".</summary>
    public string Name { get; init; } = "redis";

    /// <summary>Null picks a free loopback port (and another one if a different process took it first).</summary>
    public int? Port { get; init; }

    /// <summary>A redis.conf passed as the first argument (e.g. one holding requirepass, so the password is not in argv).</summary>
    public string? ConfigFile { get; init; }

    /// <summary>
    /// The server's password, used to PING it; when there is no <see cref="ConfigFile"/> it is also passed as
    /// --requirepass (visible in argv: fine for tests, which is why `local` uses a config file).
    /// </summary>
    public string? Password { get; init; }

    /// <summary>Append-only file, written before each reply and fsynced every second (a resumable `local --persist` run).</summary>
    public bool AppendOnly { get; init; }

    public bool ProtectedMode { get; init; } = true;

    /// <summary>How long to wait for the first PONG (a resumed shard answers LOADING until its AOF is replayed).</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public string? LogPath { get; init; }

    /// <summary>Called with each output line (the log file gets every line anyway).</summary>
    public Action<string>? OnLine { get; init; }
}

/// <summary>
/// One redis-server on 127.0.0.1, started through a <see cref="ProcessSpawner"/> (so it dies with its parent, even on
/// SIGKILL), no RDB snapshots, ready once it answers PING (with AUTH when it has a password). The one launcher used by
/// `distsac local`, the benchmarks (<see cref="RedisLauncher"/>) and the tests (DistSac.Testing.RedisServer).
/// </summary>
public sealed class RedisProcess : IAsyncDisposable
{
    public const string DefaultExecutable = "redis-server";
    private const int StartAttempts = 3;
    private static readonly Lazy<ProcessSpawner> SharedSpawner = new(() => new ProcessSpawner());
    private static readonly IReadOnlyDictionary<string, string> NoEnvironment = new Dictionary<string, string>();

    private RedisProcess(ChildProcess child, int port, string? password)
    {
        Child = child;
        Port = port;
        Password = password;
    }

    public ChildProcess Child { get; }
    public int Port { get; }
    public string Endpoint => $"127.0.0.1:{Port}";
    public string? Password { get; }
    /// <summary>redis-server's own pid (setpriv execs it).</summary>
    public int Pid => Child.Pid;

    /// <summary>Starts on a spawner that lives as long as this process (for callers without one of their own, e.g. tests).</summary>
    public static Task<RedisProcess> StartAsync(RedisProcessSettings settings, CancellationToken ct) => StartAsync(SharedSpawner.Value, settings, ct);

    /// <summary>
    /// Starts the server and waits until it answers PING; retries on a new port when another process took the free one
    /// (unless <see cref="RedisProcessSettings.Port"/> is fixed). Throws naming the log when it does not come up.
    /// </summary>
    public static async Task<RedisProcess> StartAsync(ProcessSpawner spawner, RedisProcessSettings settings, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spawner);
        ArgumentNullException.ThrowIfNull(settings);
        var executable = ResolveExecutable(settings.Executable);
        var directory = System.IO.Directory.CreateDirectory(settings.Directory).FullName;
        var log = settings.LogPath ?? Path.Combine(directory, "redis.log");
        Exception? last = null;
        for (int attempt = 0; attempt < (settings.Port is null ? StartAttempts : 1); attempt++)
        {
            int port = settings.Port ?? LoopbackPorts.Next();
            var child = await spawner.StartAsync(settings.Name, executable, Arguments(settings, port, directory), NoEnvironment, log,
                (_, line) => settings.OnLine?.Invoke(line)).ConfigureAwait(false);
            try
            {
                var deadline = DateTime.UtcNow + settings.StartTimeout;
                while (!child.HasExited && DateTime.UtcNow < deadline)
                {
                    if (await PingAsync(port, settings.Password, ct).ConfigureAwait(false)) return new RedisProcess(child, port, settings.Password);
                    await Task.Delay(20, ct).ConfigureAwait(false);
                }
            }
            catch
            {
                await child.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            last = child.HasExited
                ? new InvalidOperationException($"{settings.Name} ({executable}) on 127.0.0.1:{port} exited with code {child.ExitCode}; see {log}")
                : new InvalidOperationException($"{settings.Name} ({executable}) did not answer PING on 127.0.0.1:{port} within {settings.StartTimeout.TotalSeconds:F0} s; see {log}");
            await child.DisposeAsync().ConfigureAwait(false);
        }
        throw last!;
    }

    /// <summary>
    /// The redis-server (or redis-benchmark, ...) to run: a name containing '/' as given, else /usr/bin (where the host
    /// set-up installs it) and then PATH. Throws <see cref="FileNotFoundException"/> naming the fix.
    /// </summary>
    public static string ResolveExecutable(string tool) =>
        TryResolveExecutable(tool)
        ?? throw new FileNotFoundException($"'{tool}' was not found in /usr/bin or on PATH; install it (make deps, or apt-get install redis-server) or give its path.", tool);

    /// <summary>Searched before PATH: Debian's packages install there, and a PATH entry should not shadow them.</summary>
    private static readonly string[] PreferredDirectories = ["/usr/bin"];

    /// <summary>As <see cref="ResolveExecutable"/>, null when not installed.</summary>
    public static string? TryResolveExecutable(string tool)
    {
        if (tool.Contains('/', StringComparison.Ordinal)) return File.Exists(tool) ? tool : null;
        foreach (var dir in PreferredDirectories.Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)))
        {
            var path = Path.Combine(dir, tool);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>True once 127.0.0.1:<paramref name="port"/> answers PING (after AUTH when a password is given).</summary>
    public static async Task<bool> PingAsync(int port, string? password, CancellationToken ct)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, ct).ConfigureAwait(false);
            var stream = client.GetStream();
            var command = new StringBuilder();
            if (password is not null)
                command.Append(CultureInfo.InvariantCulture, $"*2\r\n$4\r\nAUTH\r\n${Encoding.UTF8.GetByteCount(password)}\r\n{password}\r\n");
            command.Append("*1\r\n$4\r\nPING\r\n");
            await stream.WriteAsync(Encoding.UTF8.GetBytes(command.ToString()), ct).ConfigureAwait(false);
            var buffer = new byte[256];
            var received = new StringBuilder();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(1));
            while (true)
            {
                int n = await stream.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
                if (n == 0) return false;
                received.Append(Encoding.ASCII.GetString(buffer, 0, n));
                var text = received.ToString();
                if (text.Contains("+PONG", StringComparison.Ordinal)) return true;
                // -LOADING (an AOF being replayed), -NOAUTH, -WRONGPASS, -ERR: not ready (yet) for this caller.
                if (text.Contains('-', StringComparison.Ordinal)) return false;
            }
        }
        catch (SocketException) { return false; }
        catch (IOException) { return false; }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { return false; } // the one-second read timeout
    }

    /// <summary>SIGTERM (redis-server shuts down cleanly, flushing its AOF), then SIGKILL after <paramref name="grace"/>.</summary>
    public Task StopAsync(TimeSpan grace) => Child.StopAsync(grace);

    /// <summary>SIGKILL: no shutdown, no save (crash tests).</summary>
    public Task KillAsync() => Child.KillAsync();

    public ValueTask DisposeAsync() => Child.DisposeAsync();

    private static List<string> Arguments(RedisProcessSettings settings, int port, string directory)
    {
        var args = new List<string>();
        if (settings.ConfigFile is not null) args.Add(settings.ConfigFile); // must come first
        args.AddRange(["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory, "--save", "",
            "--daemonize", "no", "--protected-mode", settings.ProtectedMode ? "yes" : "no"]);
        args.AddRange(settings.AppendOnly ? ["--appendonly", "yes", "--appendfsync", "everysec"] : ["--appendonly", "no"]);
        if (settings.Password is not null && settings.ConfigFile is null) args.AddRange(["--requirepass", settings.Password]);
        return args;
    }

}
