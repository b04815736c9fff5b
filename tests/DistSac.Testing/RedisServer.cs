using System.Diagnostics;
using System.Text;
using DistSac.Processes;

namespace DistSac.Testing;

/// <summary>
/// A real /usr/bin/redis-server on 127.0.0.1 with a free port and its own temp dir, persistence off, started by the
/// shared launcher (<see cref="RedisProcess"/>, as `distsac local` and the benchmarks start theirs): it dies with the
/// test process. Dispose kills it and deletes the dir; <see cref="KillAsync"/> is SIGKILL for crash tests.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    public const string DefaultExecutable = "/usr/bin/redis-server";

    private readonly RedisProcess _redis;
    private readonly string? _directory; // null: the caller's AOF folder, kept
    private int _disposed;

    private RedisServer(RedisProcess redis, string? directory)
    {
        _redis = redis;
        _directory = directory;
    }

    public Process Process => _redis.Child.Process;
    public int Port => _redis.Port;
    public string Endpoint => _redis.Endpoint;
    public string? Password => _redis.Password;

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
        var directory = appendOnlyDirectory ?? Path.Combine(Path.GetTempPath(), "distsac-redis-" + Guid.NewGuid().ToString("N"));
        var output = new StringBuilder();
        try
        {
            var redis = await RedisProcess.StartAsync(new RedisProcessSettings
            {
                Executable = DefaultExecutable,
                Directory = directory,
                Port = port,
                Password = password,
                AppendOnly = appendOnlyDirectory is not null,
                ProtectedMode = false,
                OnLine = line => { lock (output) output.AppendLine(line); },
            }, ct).ConfigureAwait(false);
            return new RedisServer(redis, appendOnlyDirectory is null ? directory : null);
        }
        catch (InvalidOperationException e)
        {
            string log;
            lock (output) log = output.ToString();
            if (appendOnlyDirectory is null) DeleteDirectory(directory);
            throw new InvalidOperationException($"{e.Message}\n{log}", e);
        }
        catch
        {
            if (appendOnlyDirectory is null) DeleteDirectory(directory);
            throw;
        }
    }

    /// <summary>SIGKILL: no shutdown, no save. The temp dir stays until dispose.</summary>
    public Task KillAsync() => _redis.KillAsync();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await KillAsync().ConfigureAwait(false);
        await _redis.DisposeAsync().ConfigureAwait(false);
        if (_directory is not null) DeleteDirectory(_directory);
    }

    private static void DeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp dir left behind is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
