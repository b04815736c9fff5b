namespace DistSac.Replay.Tests;

/// <summary>
/// Chi-square critical values computed from scratch (regularized incomplete gamma, Numerical Recipes style), so the
/// uniformity tests do not trust a hard-coded table or the code under test.
/// </summary>
internal static class ChiSquare
{
    public static double Statistic(ReadOnlySpan<long> observed, ReadOnlySpan<double> expected)
    {
        double chi = 0;
        for (int i = 0; i < observed.Length; i++)
        {
            double d = observed[i] - expected[i];
            chi += d * d / expected[i];
        }
        return chi;
    }

    /// <summary>x with P(X > x) = p for X ~ chi-square(dof), by bisection on the upper tail.</summary>
    public static double Critical(int dof, double p)
    {
        double lo = 0, hi = dof + 100 * Math.Sqrt(2.0 * dof) + 100;
        for (int i = 0; i < 200; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (UpperTail(dof, mid) > p) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    /// <summary>P(X > x) = Q(dof/2, x/2).</summary>
    public static double UpperTail(int dof, double x) => RegularizedGammaQ(dof / 2.0, x / 2.0);

    private static double RegularizedGammaQ(double a, double x)
    {
        if (x <= 0) return 1;
        return x < a + 1 ? 1 - SeriesP(a, x) : ContinuedFractionQ(a, x);
    }

    private static double SeriesP(double a, double x)
    {
        double ap = a, sum = 1 / a, del = sum;
        for (int n = 0; n < 10_000; n++)
        {
            ap += 1;
            del *= x / ap;
            sum += del;
            if (Math.Abs(del) < Math.Abs(sum) * 1e-15) break;
        }
        return sum * Math.Exp(-x + a * Math.Log(x) - LogGamma(a));
    }

    private static double ContinuedFractionQ(double a, double x)
    {
        const double Tiny = 1e-300;
        double b = x + 1 - a, c = 1 / Tiny, d = 1 / b, h = d;
        for (int i = 1; i < 10_000; i++)
        {
            double an = -i * (i - a);
            b += 2;
            d = an * d + b;
            if (Math.Abs(d) < Tiny) d = Tiny;
            c = b + an / c;
            if (Math.Abs(c) < Tiny) c = Tiny;
            d = 1 / d;
            double del = d * c;
            h *= del;
            if (Math.Abs(del - 1) < 1e-15) break;
        }
        return Math.Exp(-x + a * Math.Log(x) - LogGamma(a)) * h;
    }

    // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for a > 0.5.
    private static double LogGamma(double x)
    {
        double[] g = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
        x -= 1;
        double s = g[0];
        for (int i = 1; i < 9; i++) s += g[i] / (x + i);
        double t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(s);
    }
}
