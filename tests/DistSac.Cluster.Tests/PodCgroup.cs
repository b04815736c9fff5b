using System.Globalization;
using k8s.Models;

namespace DistSac.Cluster.Tests;

/// <summary>
/// A container's CPU and memory limits applied as the kubelet applies them, with cgroups: v2 (memory.max, cpu.max)
/// where the unified hierarchy is mounted alone, else v1 (memory.limit_in_bytes, cpu.cfs_quota_us). The pod's outermost
/// wrapper writes its pid into <see cref="ProcsFiles"/> before it execs, so the container process starts inside.
/// Afterwards it reports peak memory and OOM kills.
/// </summary>
public sealed class PodCgroup : IDisposable
{
    private const string Root = "/sys/fs/cgroup";
    private readonly List<string> _directories;
    private readonly bool _v2;

    private PodCgroup(List<string> directories, bool v2, long? memoryLimit, double? cpuLimit)
    {
        _directories = directories;
        _v2 = v2;
        MemoryLimitBytes = memoryLimit;
        CpuLimitCores = cpuLimit;
    }

    public long? MemoryLimitBytes { get; }
    public double? CpuLimitCores { get; }

    public IEnumerable<string> ProcsFiles => _directories.Select(d => Path.Combine(d, "cgroup.procs"));

    /// <summary>The limits in place, or null with <paramref name="why"/> when this machine's cgroups cannot take them.</summary>
    public static PodCgroup? TryCreate(string labId, string podName, V1ResourceRequirements? resources, out string? why)
    {
        why = null;
        long? memory = resources?.Limits is { } l && l.TryGetValue("memory", out var m) ? (long)m.ToDecimal() : null;
        double? cpu = resources?.Limits is { } c && c.TryGetValue("cpu", out var q) ? (double)q.ToDecimal() : null;
        try
        {
            if (File.Exists(Path.Combine(Root, "cgroup.controllers"))) return CreateV2(labId, podName, memory, cpu);
            if (Directory.Exists(Path.Combine(Root, "memory")) && Directory.Exists(Path.Combine(Root, "cpu"))) return CreateV1(labId, podName, memory, cpu);
            why = "no cgroup v2 hierarchy and no v1 memory and cpu controllers";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            why = ex.Message;
        }
        return null;
    }

    /// <summary>Highest memory use seen (v2 memory.peak, v1 memory.max_usage_in_bytes), null where the kernel does not say.</summary>
    public long? PeakMemoryBytes()
    {
        var file = _v2 ? Path.Combine(_directories[0], "memory.peak") : Path.Combine(_directories[0], "memory.max_usage_in_bytes");
        return File.Exists(file) && long.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    /// <summary>The memory limit the kernel holds for this cgroup (read back, not the value asked for).</summary>
    public long? MemoryLimitInEffect()
    {
        var file = Path.Combine(_directories[0], _v2 ? "memory.max" : "memory.limit_in_bytes");
        return File.Exists(file) && long.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    /// <summary>OOM kills in this cgroup (v2 memory.events, v1 memory.oom_control "oom_kill").</summary>
    public long OomKills()
    {
        var file = Path.Combine(_directories[0], _v2 ? "memory.events" : "memory.oom_control");
        if (!File.Exists(file)) return 0;
        foreach (var line in File.ReadAllLines(file))
        {
            var parts = line.Split(' ');
            if (parts.Length == 2 && parts[0] == "oom_kill") return long.Parse(parts[1], CultureInfo.InvariantCulture);
        }
        return 0;
    }

    public void Dispose()
    {
        foreach (var dir in _directories)
        {
            try
            {
                Directory.Delete(dir);
            }
            catch (IOException)
            {
                // Still has a process (a pod that outlived the run): the lab's next run uses other names.
            }
        }
    }

    private static PodCgroup CreateV2(string labId, string podName, long? memory, double? cpu)
    {
        // Controllers must be enabled on every ancestor's subtree_control: the lab's own parent under the root.
        var lab = Path.Combine(Root, $"distsac-{labId}");
        Directory.CreateDirectory(lab);
        File.WriteAllText(Path.Combine(Root, "cgroup.subtree_control"), "+memory +cpu");
        File.WriteAllText(Path.Combine(lab, "cgroup.subtree_control"), "+memory +cpu");
        var dir = Path.Combine(lab, podName);
        Directory.CreateDirectory(dir);
        if (memory is { } m) File.WriteAllText(Path.Combine(dir, "memory.max"), m.ToString(CultureInfo.InvariantCulture));
        if (cpu is { } c) File.WriteAllText(Path.Combine(dir, "cpu.max"), $"{(long)(c * 100_000)} 100000");
        return new PodCgroup([dir], v2: true, memory, cpu);
    }

    private static PodCgroup CreateV1(string labId, string podName, long? memory, double? cpu)
    {
        var memoryDir = Path.Combine(Root, "memory", OwnPath("memory"), $"distsac-{labId}-{podName}");
        var cpuDir = Path.Combine(Root, "cpu", OwnPath("cpu"), $"distsac-{labId}-{podName}");
        Directory.CreateDirectory(memoryDir);
        Directory.CreateDirectory(cpuDir);
        if (memory is { } m) File.WriteAllText(Path.Combine(memoryDir, "memory.limit_in_bytes"), m.ToString(CultureInfo.InvariantCulture));
        if (cpu is { } c)
        {
            File.WriteAllText(Path.Combine(cpuDir, "cpu.cfs_period_us"), "100000");
            File.WriteAllText(Path.Combine(cpuDir, "cpu.cfs_quota_us"), ((long)(c * 100_000)).ToString(CultureInfo.InvariantCulture));
        }
        return new PodCgroup([memoryDir, cpuDir], v2: false, memory, cpu);
    }

    /// <summary>This process's cgroup (relative) in a v1 controller, from /proc/self/cgroup: children go under it.</summary>
    private static string OwnPath(string controller)
    {
        foreach (var line in File.ReadAllLines("/proc/self/cgroup"))
        {
            var parts = line.Split(':', 3);
            if (parts.Length == 3 && parts[1].Split(',').Contains(controller)) return parts[2].TrimStart('/');
        }
        return "";
    }
}
