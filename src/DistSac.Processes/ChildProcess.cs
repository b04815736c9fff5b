using System.Diagnostics;

namespace DistSac.Processes;

/// <summary>
/// One child of `distsac local`, a benchmark or a test: started through `setpriv --pdeathsig KILL` so the kernel kills it if the
/// orchestrator dies without cleaning up (even on SIGKILL), its output prefixed with its role and copied to a log file.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Action<string, string> _onLine;

    private ChildProcess(string name, Process process, StreamWriter log, Action<string, string> onLine)
    {
        Name = name;
        _process = process;
        _log = log;
        _onLine = onLine;
    }

    public string Name { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public bool StopRequested { get; private set; }
    public Task Exited => _process.WaitForExitAsync();
    /// <summary>The process itself, for callers that inspect it (tests).</summary>
    public Process Process => _process;

    /// <summary>Must be called on <see cref="ProcessSpawner"/>'s thread: PR_SET_PDEATHSIG fires when the forking thread exits.</summary>
    /// <param name="niceIncrement">Added to the child's nice value (0-19; 0 = this process's priority), through `nice -n`.</param>
    internal static ChildProcess Start(string name, string fileName, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment,
        string logPath, Action<string, string> onLine, int niceIncrement = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(niceIncrement);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(niceIncrement, 19);
        var psi = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (File.Exists("/usr/bin/setpriv"))
        {
            psi.FileName = "/usr/bin/setpriv";
            psi.ArgumentList.Add("--pdeathsig");
            psi.ArgumentList.Add("KILL");
        }
        // `nice` sets the priority before it execs the program, so every thread the runtime starts inherits it (setpriority
        // on a started child's pid would reach only its main thread, racing the runtime's own threads). The pid stays the
        // child's own: setpriv and nice both exec.
        if (niceIncrement > 0)
        {
            if (!File.Exists(NiceExecutable))
                throw new InvalidOperationException($"Cannot start {name} at a lower CPU priority: {NiceExecutable} (coreutils) is missing. Install coreutils or set the nice increment to 0.");
            AddProgram(psi, NiceExecutable);
            psi.ArgumentList.Add("-n");
            psi.ArgumentList.Add(niceIncrement.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        AddProgram(psi, fileName);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process, log, onLine);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        if (!process.Start()) throw new InvalidOperationException($"Could not start {name} ({fileName}).");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private const string NiceExecutable = "/usr/bin/nice";

    /// <summary>The first program of the exec chain is the process to start; each later one is an argument of the one before.</summary>
    private static void AddProgram(ProcessStartInfo psi, string program)
    {
        if (string.IsNullOrEmpty(psi.FileName)) psi.FileName = program;
        else psi.ArgumentList.Add(program);
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_log) _log.WriteLine(line);
        _onLine(Name, line);
    }

    /// <summary>SIGTERM, then SIGKILL if it has not exited within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        StopRequested = true;
        if (_process.HasExited) return;
        Signals.Send(_process.Id, Signals.SigTerm);
        using var timeout = new CancellationTokenSource(grace);
        try { await _process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>SIGKILL, no grace: a crash, for tests.</summary>
    public async Task KillAsync()
    {
        StopRequested = true;
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // Already reaped.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) await StopAsync(TimeSpan.FromSeconds(5));
        _process.Dispose();
        lock (_log) _log.Dispose();
    }
}

internal static partial class Signals
{
    public const int SigTerm = 15;
    public const int SigKill = 9;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public static void Send(int pid, int signal) => _ = Kill(pid, signal);
}
