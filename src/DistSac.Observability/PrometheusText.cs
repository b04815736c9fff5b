using System.Globalization;

namespace DistSac.Observability;

/// <summary>Reads a Prometheus text exposition (what /metrics serves) into series -> value: `distsac status` and the tests.</summary>
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
            // Whatever answers on a probe port may not be ours: a line that is not "series value" is skipped, not fatal.
            if (space <= 0 || !TryParseValue(line[(space + 1)..].TrimEnd('\r'), out var value)) continue;
            values[line[..space]] = value;
        }
        return values;
    }

    private static bool TryParseValue(string text, out double value)
    {
        switch (text)
        {
            case "+Inf": value = double.PositiveInfinity; return true;
            case "-Inf": value = double.NegativeInfinity; return true;
            default: return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
    }
}
