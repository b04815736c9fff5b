using System.Globalization;
using ScottPlot;

namespace DistSac.Plots;

/// <summary>
/// Evaluation return against env steps (left) and against wall-clock time (right), one colour per configuration:
/// a single run is a line with its evaluations marked; several runs of one configuration (different seeds) are
/// their mean with a min-max band.
/// </summary>
public static class LearningCurvePlot
{
    public const int DefaultWidth = 1200;
    public const int DefaultHeight = 450;

    /// <summary>Writes the PNG; throws InvalidOperationException naming the runs when none has an evaluation yet.</summary>
    public static void Save(IReadOnlyList<RunCurve> runs, string pngPath, int width = DefaultWidth, int height = DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.All(r => r.Points.Count == 0))
            throw new InvalidOperationException(
                $"No evaluation in {string.Join(", ", runs.Select(r => r.Path))} yet (metrics.jsonl has no eval_return); plot again after the first evaluation.");

        var groups = runs.Where(r => r.Points.Count > 0).GroupBy(r => r.Configuration, StringComparer.Ordinal).Select(g => g.ToList()).ToList();
        double longest = runs.SelectMany(r => r.Points).Max(p => p.Seconds);
        bool minutes = longest > 300;

        var figure = new Multiplot();
        figure.AddPlots(2);
        figure.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var bySteps = figure.GetPlot(0);
        var byTime = figure.GetPlot(1);
        var palette = new ScottPlot.Palettes.Category10();
        for (int g = 0; g < groups.Count; g++)
        {
            var color = palette.GetColor(g);
            var label = Label(groups[g]);
            Draw(bySteps, groups[g], p => p.EnvSteps, color, label);
            Draw(byTime, groups[g], p => minutes ? p.Seconds / 60 : p.Seconds, color, label);
        }
        Decorate(bySteps, "evaluation return vs env steps", "env steps");
        Decorate(byTime, "evaluation return vs wall-clock", minutes ? "wall-clock minutes" : "wall-clock seconds");
        var folder = Path.GetDirectoryName(Path.GetFullPath(pngPath));
        if (folder is not null) Directory.CreateDirectory(folder);
        figure.SavePng(pngPath, width, height);
    }

    private static void Draw(Plot plot, List<RunCurve> runs, Func<EvaluationPoint, double> x, Color color, string label)
    {
        if (runs.Count == 1)
        {
            var points = runs[0].Points;
            var line = plot.Add.Scatter(points.Select(x).ToArray(), points.Select(p => p.Return).ToArray(), color);
            line.LineWidth = 2;
            line.MarkerSize = 5;
            line.LegendText = label;
            return;
        }
        var curves = runs.Select(r => (IReadOnlyList<(double X, double Y)>)r.Points.Select(p => (x(p), p.Return)).OrderBy(p => p.Item1).ToList()).ToList();
        var band = SeedAggregate.Combine(curves);
        if (band.X.Length == 0) return;
        var fill = plot.Add.FillY(band.X, band.Min, band.Max);
        fill.FillColor = color.WithAlpha(0.25);
        fill.LineWidth = 0;
        var mean = plot.Add.Scatter(band.X, band.Mean, color);
        mean.LineWidth = 2;
        mean.MarkerSize = 0;
        mean.LegendText = label;
    }

    private static void Decorate(Plot plot, string title, string xLabel)
    {
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel("deterministic evaluation return");
        plot.ShowLegend(Alignment.LowerRight);
    }

    private static string Label(List<RunCurve> runs)
    {
        if (runs.Count == 1)
            return runs[0].Seed is { } s ? $"{runs[0].Env} seed {s.ToString(CultureInfo.InvariantCulture)} ({runs[0].Name})" : $"{runs[0].Env} ({runs[0].Name})";
        var seeds = string.Join(",", runs.Select(r => r.Seed?.ToString(CultureInfo.InvariantCulture) ?? "?"));
        return $"{runs[0].Env}: mean of {runs.Count} seeds ({seeds}), band min-max";
    }
}
