namespace DistSac.Local;

/// <summary>How progress reads on every command's console: "done/total (p%, ETA ...)" and durations such as "3m05s".</summary>
public static class ProgressText
{
    /// <summary>"done/total (p%, ETA 2m05s)" at the current rate; "ETA -" until the rate is known.</summary>
    public static string OfTotal(double done, double total, double perSecond)
    {
        var percent = total > 0 ? Math.Clamp(100 * done / total, 0, 100) : 0;
        var remaining = total - done;
        string eta = perSecond > 0 && double.IsFinite(perSecond) && remaining >= 0 ? Duration(remaining / perSecond) : "-";
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{done:F0}/{total:F0} ({percent:F0}%, ETA {eta})");
    }

    /// <summary>Seconds as "45s", "3m05s" or "1h02m".</summary>
    public static string Duration(double seconds)
    {
        if (!double.IsFinite(seconds) || seconds < 0) return "-";
        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:D2}s" : $"{t.Seconds}s";
    }
}
