using DistSac.Processes;

namespace DistSac.Faults.Tests;

/// <summary>
/// A redis-server shard as the persistent overlay runs it: appendonly yes, appendfsync everysec, a fixed port and a
/// data folder that outlives the process, so a SIGKILLed shard restarts on the same address from its AOF (Redis
/// writes the AOF before it replies, so only a machine crash, not a process kill, loses acknowledged writes).
/// Started by the shared launcher (<see cref="RedisProcess"/>).
/// </summary>
public sealed class AofRedisShard : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _log;
    private RedisProcess? _process;

    public AofRedisShard(int index, string root)
    {
        Index = index;
        Port = DistSac.Testing.FreePort.Next();
        _directory = Directory.CreateDirectory(Path.Combine(root, $"shard-{index}")).FullName;
        _log = Path.Combine(root, $"shard-{index}.log"); // beside the data folder, which WipeData empties
    }

    public int Index { get; }
    public int Port { get; }
    public string Endpoint => $"127.0.0.1:{Port}";
    public bool IsRunning => _process is { Child.HasExited: false };

    public async Task StartAsync()
    {
        _process = await RedisProcess.StartAsync(new RedisProcessSettings
        {
            Name = $"redis-shard-{Index}",
            Executable = DistSac.Testing.RedisServer.DefaultExecutable,
            Directory = _directory,
            LogPath = _log,
            Port = Port,
            AppendOnly = true,
            ProtectedMode = false,
            StartTimeout = TimeSpan.FromSeconds(30), // -LOADING while the AOF replays
        }, CancellationToken.None);
    }

    /// <summary>SIGKILL (9) or SIGTERM (15), waiting for the process to be gone.</summary>
    public async Task StopAsync(int signal)
    {
        if (_process is null) return;
        if (signal == 9) await _process.KillAsync();
        else await _process.StopAsync(TimeSpan.FromSeconds(30));
        await _process.DisposeAsync();
        _process = null;
    }

    /// <summary>Removes the AOF: the next start is an empty shard (a pod rescheduled without its volume).</summary>
    public void WipeData()
    {
        if (IsRunning) throw new InvalidOperationException("stop the shard before wiping its data");
        foreach (var entry in Directory.EnumerateFileSystemEntries(_directory))
        {
            if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
            else File.Delete(entry);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(9);
}
