using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace DistSac.Testing;

/// <summary>
/// A real /usr/bin/redis-server on 127.0.0.1 with a free port and its own temp dir, persistence off.
/// Dispose kills it and deletes the dir; <see cref="KillAsync"/> is SIGKILL for crash tests.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    public const string DefaultExecutable = "/usr/bin/redis-server";
    private const int StartAttempts = 3;

    private readonly string? _directory; // null: the caller's AOF folder, kept
    private readonly string? _password;
    private int _disposed;

    private RedisServer(Process process, int port, string? directory, string? password)
    {
        Process = process;
        Port = port;
        _directory = directory;
        _password = password;
    }

    public Process Process { get; }
    public int Port { get; }
    public string Endpoint => $"127.0.0.1:{Port}";
    public string? Password => _password;

    /// <summary>False once the process exited, was killed or the server was disposed (safe to call after dispose).</summary>
    public bool IsRunning
    {
        get
        {
            if (Volatile.Read(ref _disposed) != 0) return false;
            try { return !Process.HasExited; }
            catch (InvalidOperationException) { return false; }
        }
    }

    /// <summary>
    /// Starts a server and waits until it answers PING. Retries with a new port if another process grabbed it, unless
    /// <paramref name="port"/> is given (a restart of a killed server at its old address).
    /// </summary>
    /// <param name="appendOnlyDirectory">
    /// When given: AOF persistence (appendonly yes, appendfsync everysec) in this folder, which the caller owns (it is
    /// not deleted), so a killed server restarted with the same port and folder comes back with its data.
    /// </param>
    public static async Task<RedisServer> StartAsync(string? password = null, int? port = null, string? appendOnlyDirectory = null, CancellationToken ct = default)
    {
        Exception? last = null;
        for (int attempt = 0; attempt < (port is null ? StartAttempts : 1); attempt++)
        {
            var directory = appendOnlyDirectory ?? Path.Combine(Path.GetTempPath(), "distsac-redis-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            int serverPort = port ?? FreePort.Next();
            var psi = new ProcessStartInfo(DefaultExecutable)
            {
                WorkingDirectory = directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "--port", serverPort.ToString(), "--bind", "127.0.0.1", "--dir", directory,
                         "--save", "", "--appendonly", appendOnlyDirectory is null ? "no" : "yes", "--appendfsync", "everysec",
                         "--daemonize", "no", "--protected-mode", "no" })
                psi.ArgumentList.Add(arg);
            if (password is not null)
            {
                psi.ArgumentList.Add("--requirepass");
                psi.ArgumentList.Add(password);
            }
            var output = new StringBuilder();
            var process = new Process { StartInfo = psi };
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new RedisServer(process, serverPort, appendOnlyDirectory is null ? directory : null, password);
            try
            {
                await server.WaitForPingAsync(TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
                return server;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await server.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            catch (Exception ex)
            {
                string log;
                lock (output) log = output.ToString();
                last = new InvalidOperationException($"redis-server on port {serverPort} did not start: {ex.Message}\n{log}", ex);
                await server.DisposeAsync().ConfigureAwait(false);
            }
        }
        throw last!;
    }

    /// <summary>SIGKILL: no shutdown, no save. The temp dir stays until dispose.</summary>
    public async Task KillAsync()
    {
        try
        {
            if (!Process.HasExited)
                Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await KillAsync().ConfigureAwait(false);
        Process.Dispose();
        if (_directory is null) return;
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp dir left behind is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private async Task WaitForPingAsync(TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            ct.ThrowIfCancellationRequested();
            if (Process.HasExited)
                throw new InvalidOperationException($"redis-server exited with code {Process.ExitCode}");
            try
            {
                if (await PingOnceAsync(ct).ConfigureAwait(false))
                    return;
            }
            catch (SocketException ex)
            {
                last = ex;
            }
            catch (IOException ex)
            {
                last = ex;
            }
            catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
            {
                last = ex; // our one-second read timeout, not the caller's token
            }
            await Task.Delay(20, ct).ConfigureAwait(false);
        }
        throw new TimeoutException($"no PONG from {Endpoint} within {timeout.TotalSeconds:0}s", last);
    }

    // Raw RESP so this helper needs no Redis client package.
    private async Task<bool> PingOnceAsync(CancellationToken ct)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port, ct).ConfigureAwait(false);
        var stream = client.GetStream();
        var command = new StringBuilder();
        if (_password is not null)
            command.Append($"*2\r\n$4\r\nAUTH\r\n${Encoding.UTF8.GetByteCount(_password)}\r\n{_password}\r\n");
        command.Append("*1\r\n$4\r\nPING\r\n");
        await stream.WriteAsync(Encoding.UTF8.GetBytes(command.ToString()), ct).ConfigureAwait(false);
        var buffer = new byte[256];
        var received = new StringBuilder();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        while (true)
        {
            int n = await stream.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
            if (n == 0)
                return false;
            received.Append(Encoding.ASCII.GetString(buffer, 0, n));
            var text = received.ToString();
            if (text.Contains("+PONG", StringComparison.Ordinal))
                return true;
            if (text.Contains("-LOADING", StringComparison.Ordinal) || text.Contains("-ERR", StringComparison.Ordinal)
                || text.Contains("-WRONGPASS", StringComparison.Ordinal) || text.Contains("-NOAUTH", StringComparison.Ordinal))
                return false;
        }
    }
}
