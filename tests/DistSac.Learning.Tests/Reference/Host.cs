using TorchSharp;
using static TorchSharp.torch;

namespace DistSac.Learning.Tests.Reference;

/// <summary>Moves values between tensors and managed arrays, so reference computations run in plain double arithmetic.</summary>
internal static class Host
{
    public static float[] Floats(Tensor t)
    {
        using var host = t.detach().cpu().contiguous();
        return host.data<float>().ToArray();
    }

    public static double[] Doubles(Tensor t) => Array.ConvertAll(Floats(t), v => (double)v);

    public static Tensor Matrix(float[] values, int rows, int columns) => tensor(values, [rows, columns]);

    /// <summary>Floats drawn uniformly from [low, high).</summary>
    public static float[] Uniform(Random random, int count, double low, double high)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(low + (high - low) * random.NextDouble());
        return values;
    }

    /// <summary>Standard normal draws (Box-Muller), independent of libtorch's generator.</summary>
    public static float[] Normal(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            values[i] = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return values;
    }

    public static double MaxAbsDifference(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        Assert.Equal(a.Length, b.Length);
        double worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        return worst;
    }

    public static double MaxAbs(ReadOnlySpan<double> a)
    {
        double worst = 0;
        foreach (var v in a) worst = Math.Max(worst, Math.Abs(v));
        return worst;
    }
}
