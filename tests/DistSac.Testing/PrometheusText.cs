using System.Globalization;

namespace DistSac.Testing;

/// <summary>Reads a Prometheus text exposition (what /metrics serves) into series -> value.</summary>
public static class PrometheusText
{
    /// <summary>
    /// Keys are the series as written, labels included (<c>distsac_replay_fill{shard="0"}</c>); comment lines are
    /// skipped. The value is the last space-separated field, so label values with spaces stay in the key.
    /// </summary>
    public static Dictionary<string, double> Parse(string text)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int space = line.LastIndexOf(' ');
            values[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return values;
    }
}
