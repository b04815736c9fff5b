using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace DistSac.Faults.Tests;

/// <summary>
/// A redis-server shard as the persistent overlay runs it: appendonly yes, appendfsync everysec, a fixed port and a
/// data folder that outlives the process, so a SIGKILLed shard restarts on the same address from its AOF (Redis
/// writes the AOF before it replies, so only a machine crash, not a process kill, loses acknowledged writes).
/// </summary>
public sealed class AofRedisShard : IAsyncDisposable
{
    private readonly string _directory;
    private Process? _process;

    public AofRedisShard(int index, string root)
    {
        Index = index;
        Port = DistSac.Testing.FreePort.Next();
        _directory = Directory.CreateDirectory(Path.Combine(root, $"shard-{index}")).FullName;
    }

    public int Index { get; }
    public int Port { get; }
    public string Endpoint => $"127.0.0.1:{Port}";
    public bool IsRunning => _process is { HasExited: false };

    public async Task StartAsync()
    {
        var psi = new ProcessStartInfo(DistSac.Testing.RedisServer.DefaultExecutable)
        {
            WorkingDirectory = _directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _directory,
                     "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--daemonize", "no", "--protected-mode", "no" })
            psi.ArgumentList.Add(arg);
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await PingAsync())
        {
            if (_process.HasExited) throw new InvalidOperationException($"redis-server shard {Index} on {Endpoint} exited with {_process.ExitCode}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"redis-server shard {Index} on {Endpoint} did not answer PING within 30 s");
            await Task.Delay(50);
        }
    }

    /// <summary>SIGKILL (9) or SIGTERM (15), waiting for the process to be gone.</summary>
    public async Task StopAsync(int signal)
    {
        if (_process is null || _process.HasExited) return;
        if (signal == 9) _process.Kill();
        else _ = Kill(_process.Id, signal);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
        _process.Dispose();
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

    private async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[64];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            int n = await stream.ReadAsync(buffer, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal); // -LOADING while the AOF replays
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    public async ValueTask DisposeAsync() => await StopAsync(9);
}
