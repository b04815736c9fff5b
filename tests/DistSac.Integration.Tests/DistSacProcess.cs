using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace DistSac.Integration.Tests;

/// <summary>The built `distsac` executable run as a real process, its output captured line by line.</summary>
public sealed partial class DistSacProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly object _gate = new();

    private DistSacProcess(Process process) { _process = process; }

    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public string Output { get { lock (_gate) return _output.ToString(); } }

    public static string Executable()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DistSac.sln"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException("Cannot find the repository root (DistSac.sln) above " + AppContext.BaseDirectory);
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        var path = Path.Combine(dir.FullName, "src", "DistSac.Cli", "bin", configuration, "net10.0", "distsac");
        if (!File.Exists(path)) throw new FileNotFoundException("Build the solution first: " + path);
        return path;
    }

    public static DistSacProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(Executable()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (environment is not null) foreach (var (k, v) in environment) psi.Environment[k] = v;
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        var process = new Process { StartInfo = psi };
        var wrapper = new DistSacProcess(process);
        process.OutputDataReceived += (_, e) => wrapper.Append(e.Data);
        process.ErrorDataReceived += (_, e) => wrapper.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_gate) _output.AppendLine(line);
    }

    public async Task<bool> WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Output.Contains(text, StringComparison.Ordinal)) return true;
            if (_process.HasExited) return Output.Contains(text, StringComparison.Ordinal);
            await Task.Delay(100);
        }
        return false;
    }

    /// <summary>Waits (up to 60 s) until this process has at least <paramref name="count"/> direct children.</summary>
    public async Task<List<int>> WaitForChildrenAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var children = ChildrenOf(Pid);
            if (children.Count >= count) return children;
            await Task.Delay(200);
        }
        throw new TimeoutException($"expected {count} children; output:\n{Output}");
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public void Signal(int signal) => _ = Kill(_process.Id, signal);

    /// <summary>Direct children of a pid, from /proc (the processes `distsac local` started).</summary>
    public static List<int> ChildrenOf(int pid)
    {
        var result = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var child)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == pid) result.Add(child);
            }
            catch (IOException) { }
        }
        return result;
    }

    /// <summary>True while the pid exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[stat.LastIndexOf(')') + 2];
            return state != 'Z' && state != 'X';
        }
        catch (IOException) { return false; }
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
