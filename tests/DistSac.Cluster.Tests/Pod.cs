using System.Diagnostics;
using System.Runtime.InteropServices;

namespace DistSac.Cluster.Tests;

/// <summary>
/// One running "pod": its container's process inside the pod's network namespace and its own UTS namespace (hostname =
/// pod name), as the pod's UID/GID with no capabilities and no_new_privs (what runAsUser, drop ALL and
/// allowPrivilegeEscalation: false give a container). Every wrapper execs, so the process id is the container's.
/// </summary>
public sealed partial class Pod
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _logGate = new();

    private Pod(PodLaunch launch, PodNetwork network, Process process, StreamWriter log, string logPath, PodCgroup? cgroup)
    {
        Cgroup = cgroup;
        Launch = launch;
        Network = network;
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    public PodLaunch Launch { get; }

    /// <summary>The container's CPU and memory limits, where this machine's cgroups could take them.</summary>
    public PodCgroup? Cgroup { get; }
    public PodNetwork Network { get; }
    public string Name => Launch.PodName;
    public string LogPath { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>Set by the kubelet loop from the readiness probe; endpoints (hosts files) follow it.</summary>
    public bool Ready { get; set; }

    /// <summary>True once the harness deleted the pod (killed it on purpose): it is no endpoint any more.</summary>
    public bool Deleted { get; set; }

    /// <summary>True once a StatefulSet replacement with the same name took over (its cgroup is gone).</summary>
    public bool Replaced { get; set; }

    /// <summary>
    /// The wrapper around a pod's command: network namespace, then a private mount and UTS namespace in which the
    /// hostname is the pod name, every volume is a read-write mount (also at its mountPath where that path exists on
    /// the host, e.g. /tmp) and the root file system is read-only (readOnlyRootFilesystem: true); then identity and
    /// capabilities. Every step execs, so the process id is the container's.
    /// </summary>
    public static IEnumerable<string> Wrap(PodNetwork network, PodLaunch launch, IEnumerable<string> argv)
    {
        var script = new System.Text.StringBuilder("set -e; hostname \"$0\"; ");
        foreach (var (mountPath, hostDirectory) in launch.VolumeDirectories)
        {
            script.Append($"mount --bind {Quote(hostDirectory)} {Quote(hostDirectory)}; ");
            if (Directory.Exists(mountPath)) script.Append($"mount --bind {Quote(hostDirectory)} {Quote(mountPath)}; ");
        }
        if (launch.ReadOnlyRootFilesystem) script.Append("mount -o remount,bind,ro /; ");
        script.Append("exec \"$@\"");
        return ["netns", "exec", network.Namespace, "unshare", "--uts", "--mount", "--propagation", "private", "--",
                "/bin/sh", "-c", script.ToString(), network.PodName,
                "setpriv", $"--reuid={launch.Uid}", $"--regid={launch.Gid}", "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--",
                .. argv];
    }

    private static string Quote(string path) =>
        path.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '-' or '_' or '.')
            ? path
            : throw new ArgumentException($"'{path}' is not a plain path.", nameof(path));

    /// <summary>
    /// How to start <paramref name="argv"/> inside the pod: its wrapper (<see cref="Wrap"/>), the container's environment
    /// and working directory, output redirected. With <paramref name="cgroup"/>, the outermost shell joins the pod's
    /// cgroups first (before `ip netns exec` mounts a fresh /sys without the cgroup file systems).
    /// </summary>
    public static ProcessStartInfo StartInfo(PodLaunch launch, PodNetwork network, IEnumerable<string> argv, PodCgroup? cgroup = null)
    {
        var psi = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            WorkingDirectory = launch.WorkingDirectory,
        };
        var join = string.Concat((cgroup?.ProcsFiles ?? []).Select(f => $"echo $$ > {Quote(f)} && "));
        foreach (var a in (string[])["-c", join + "exec \"$@\"", "pod", "ip", .. Wrap(network, launch, argv)]) psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        foreach (var (k, v) in launch.Env) psi.Environment[k] = v;
        return psi;
    }

    public static Pod Start(PodLaunch launch, PodNetwork network, string logPath, PodCgroup? cgroup)
    {
        var psi = StartInfo(launch, network, launch.Argv, cgroup);
        var log = new StreamWriter(logPath, append: false) { AutoFlush = true };
        log.WriteLine($"# {launch.Owner} pod {launch.PodName} at {network.Address}: {string.Join(' ', launch.Argv)}");
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start pod {launch.PodName}");
        var pod = new Pod(launch, network, process, log, logPath, cgroup);
        process.OutputDataReceived += (_, e) => pod.Append(e.Data);
        process.ErrorDataReceived += (_, e) => pod.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return pod;
    }

    public void Signal(int signal)
    {
        if (!_process.HasExited) _ = Kill(_process.Id, signal);
    }

    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public string ReadLog()
    {
        lock (_logGate) return File.ReadAllText(LogPath);
    }

    public string LogTail(int lines = 30)
    {
        var all = ReadLog().Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    public override string ToString() => $"{Name} ({Network.Address}, pid {Pid})";

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_logGate) _log.WriteLine(line);
    }

    public const int SigTerm = 15;
    public const int SigKill = 9;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
