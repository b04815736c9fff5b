namespace DistSac.Worker;

/// <summary>The process's resident set size as the kernel counts it (VmRSS in /proc/self/status), in MiB.</summary>
public static class ResidentMemory
{
    /// <summary>NaN where /proc is not available (not Linux).</summary>
    public static double CurrentMebibytes()
    {
        const string Path = "/proc/self/status";
        if (!File.Exists(Path))
        {
            return double.NaN;
        }

        foreach (string line in File.ReadLines(Path))
        {
            // "VmRSS:	   51234 kB"
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && long.TryParse(parts[1], out long kilobytes))
                {
                    return kilobytes / 1024.0;
                }
            }
        }

        return double.NaN;
    }
}
