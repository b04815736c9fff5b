using System.Globalization;
using ScottPlot;

namespace DistSac.Plots;

/// <summary>
/// The `bench scale` curve: stored env steps/s against worker processes on a log2 x axis, with the ideal line
/// (N x 1e6 / step cost) and the line extrapolated from the first measurement. Over a wide range of counts y is log10
/// too, so a flattening curve is not squashed against the ideal line (linear is then a slope of 1).
/// </summary>
public static class ScalingPlot
{
    public sealed record Measurement(int Workers, double StepsPerSecond);

    public static void Save(string pngPath, IReadOnlyList<Measurement> measured, double idealPerWorker, double perWorkerFromFirst, string title, string? note)
    {
        ArgumentNullException.ThrowIfNull(measured);
        if (measured.Count == 0) throw new ArgumentException("No measurement to plot.", nameof(measured));
        double low = measured.Min(m => m.StepsPerSecond);
        bool logY = measured[^1].Workers >= 8 * measured[0].Workers && low > 0;
        double Y(double v) => logY ? Math.Log10(Math.Max(v, 1e-9)) : v;
        var workers = measured.Select(m => (double)m.Workers).ToArray();
        var xs = workers.Select(Math.Log2).ToArray();

        var plot = new Plot();
        var ideal = plot.Add.Scatter(xs, workers.Select(n => Y(n * idealPerWorker)).ToArray(), Colors.Gray);
        ideal.LinePattern = LinePattern.Dashed;
        ideal.MarkerSize = 0;
        ideal.LineWidth = 2;
        ideal.LegendText = string.Create(CultureInfo.InvariantCulture, $"ideal: N x {idealPerWorker:F0}/s (1e6 / step cost in us)");
        var linear = plot.Add.Scatter(xs, workers.Select(n => Y(n * perWorkerFromFirst)).ToArray(), new Color(0x1f, 0x77, 0xb4));
        linear.LinePattern = LinePattern.Dotted;
        linear.MarkerSize = 0;
        linear.LineWidth = 2;
        linear.LegendText = measured[0].Workers == 1 ? "linear from measured 1 worker" : $"linear from measured {measured[0].Workers} workers";
        var points = plot.Add.Scatter(xs, measured.Select(m => Y(m.StepsPerSecond)).ToArray(), new Color(0xd6, 0x27, 0x28));
        points.LineWidth = 2;
        points.MarkerSize = 8;
        points.LegendText = "measured";

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(xs, workers.Select(n => n.ToString(CultureInfo.InvariantCulture)).ToArray());
        if (logY)
        {
            double top = Math.Max(measured.Max(m => m.StepsPerSecond), measured[^1].Workers * idealPerWorker);
            var decades = Enumerable.Range((int)Math.Floor(Math.Log10(low / 1.5)), (int)Math.Ceiling(Math.Log10(top)) - (int)Math.Floor(Math.Log10(low / 1.5)) + 1).ToArray();
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                decades.Select(d => (double)d).ToArray(), decades.Select(d => Math.Pow(10, d).ToString("G", CultureInfo.InvariantCulture)).ToArray());
        }
        plot.Title(title);
        plot.XLabel("worker processes (log scale)");
        plot.YLabel(logY ? "stored env steps/s (log scale)" : "stored env steps/s");
        if (note is not null) plot.Add.Annotation(note, Alignment.LowerRight);
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Axes.SetLimitsX(Math.Log2(measured[0].Workers / 1.25), Math.Log2(measured[^1].Workers * 1.25));
        if (!logY) plot.Axes.SetLimitsY(0, Math.Max(measured.Max(m => m.StepsPerSecond), measured[^1].Workers * idealPerWorker) * 1.05);
        var folder = Path.GetDirectoryName(Path.GetFullPath(pngPath));
        if (folder is not null) Directory.CreateDirectory(folder);
        plot.SavePng(pngPath, 960, 600);
    }
}
