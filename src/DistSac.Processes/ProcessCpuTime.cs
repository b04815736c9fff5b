using System.Globalization;

namespace DistSac.Processes;

/// <summary>CPU time of any process by pid (redis-server, worker children), for benchmarks that say where the cores went.</summary>
public static class ProcessCpuTime
{
    /// <summary>
    /// User + system CPU seconds a process has used so far, from /proc/PID/stat (USER_HZ is 100 on every Linux ABI .NET
    /// runs on); NaN when unreadable. Lets a benchmark say which process the cores went to.
    /// </summary>
    public static double Seconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may contain spaces; fields after the last ')' start at field 3 (state).
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException)
        {
            return double.NaN;
        }
    }
}
