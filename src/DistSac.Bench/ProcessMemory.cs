using System.Globalization;

namespace DistSac.Bench;

/// <summary>Resident memory of any process by pid (worker children), for benchmarks that report what a role costs.</summary>
public static class ProcessMemory
{
    /// <summary>VmRSS from /proc/PID/status in MiB; NaN when unreadable (the process has exited).</summary>
    public static double ResidentMebibytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) / 1024.0;
            }
            return double.NaN;
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return double.NaN;
        }
    }
}
