namespace DistSac.Plots;

/// <summary>Mean, minimum and maximum of several seeds' curves on one x grid.</summary>
public sealed record SeedBand(double[] X, double[] Mean, double[] Min, double[] Max);

/// <summary>
/// Puts runs of one configuration on a common x axis. Seeds rarely evaluate at exactly the same x (distributed runs
/// evaluate by update count, so their env steps differ), so each curve is linearly interpolated at every x any of them
/// has, within the range all of them cover: outside it a mean would silently drop seeds.
/// </summary>
public static class SeedAggregate
{
    public static SeedBand Combine(IReadOnlyList<IReadOnlyList<(double X, double Y)>> curves)
    {
        ArgumentNullException.ThrowIfNull(curves);
        if (curves.Count == 0 || curves.Any(c => c.Count == 0)) return new([], [], [], []);
        double from = curves.Max(c => c[0].X), to = curves.Min(c => c[^1].X);
        var grid = curves.SelectMany(c => c.Select(p => p.X)).Where(x => x >= from && x <= to).Distinct().Order().ToArray();
        var mean = new double[grid.Length];
        var min = new double[grid.Length];
        var max = new double[grid.Length];
        for (int i = 0; i < grid.Length; i++)
        {
            double sum = 0, lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            foreach (var c in curves)
            {
                var y = Interpolate(c, grid[i]);
                sum += y;
                lo = Math.Min(lo, y);
                hi = Math.Max(hi, y);
            }
            mean[i] = sum / curves.Count;
            min[i] = lo;
            max[i] = hi;
        }
        return new(grid, mean, min, max);
    }

    /// <summary>Linear interpolation in a curve sorted by x; x must lie within its range.</summary>
    public static double Interpolate(IReadOnlyList<(double X, double Y)> curve, double x)
    {
        for (int i = 0; i < curve.Count; i++)
        {
            if (curve[i].X == x) return curve[i].Y;
            if (curve[i].X > x)
            {
                var (x0, y0) = curve[i - 1];
                var (x1, y1) = curve[i];
                return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
            }
        }
        return curve[^1].Y;
    }
}
