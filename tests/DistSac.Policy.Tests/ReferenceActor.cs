namespace DistSac.Policy.Tests;

/// <summary>
/// The independent computation the tests compare against: weights drawn like torch.nn.Linear's default init,
/// and a forward pass as a plain triple loop in double precision over the untransposed [out, in] weights.
/// </summary>
internal static class ReferenceActor
{
    public static ActorWeights RandomWeights(int seed, int observationSize, int[] hidden, int actionSize, long version = 7)
    {
        var random = new Random(seed);
        var sizes = new List<int> { observationSize };
        sizes.AddRange(hidden);
        sizes.Add(2 * actionSize);
        var layers = new List<LinearLayerWeights>();
        for (int l = 0; l + 1 < sizes.Count; l++)
        {
            int input = sizes[l], output = sizes[l + 1];
            float bound = 1f / MathF.Sqrt(input);
            layers.Add(new LinearLayerWeights(input, output, Uniform(random, input * output, bound), Uniform(random, output, bound)));
        }

        var low = new float[actionSize];
        var high = new float[actionSize];
        for (int a = 0; a < actionSize; a++)
        {
            low[a] = -1f - a;
            high[a] = 2f + (0.5f * a);
        }

        return new ActorWeights(version, layers, low, high);
    }

    public static float[] Uniform(Random random, int count, float bound)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2.0 - 1.0) * bound);
        }

        return values;
    }

    /// <summary>Returns mean and log_std (clamped to [-20, 2]) per sample, [batch, A] row-major.</summary>
    public static (double[] Mean, double[] LogStd) Forward(ActorWeights weights, float[] observations, int batch)
    {
        int actionSize = weights.ActionSize;
        var mean = new double[batch * actionSize];
        var logStd = new double[batch * actionSize];
        for (int s = 0; s < batch; s++)
        {
            double[] x = new double[weights.ObservationSize];
            for (int i = 0; i < x.Length; i++)
            {
                x[i] = observations[(s * x.Length) + i];
            }

            for (int l = 0; l < weights.Layers.Count; l++)
            {
                LinearLayerWeights layer = weights.Layers[l];
                var y = new double[layer.OutputSize];
                for (int o = 0; o < layer.OutputSize; o++)
                {
                    double sum = layer.Bias[o];
                    for (int i = 0; i < layer.InputSize; i++)
                    {
                        sum += (double)layer.Weight[(o * layer.InputSize) + i] * x[i];
                    }

                    y[o] = l < weights.Layers.Count - 1 ? Math.Max(sum, 0.0) : sum;
                }

                x = y;
            }

            for (int a = 0; a < actionSize; a++)
            {
                mean[(s * actionSize) + a] = x[a];
                logStd[(s * actionSize) + a] = Math.Clamp(x[actionSize + a], -20.0, 2.0);
            }
        }

        return (mean, logStd);
    }

    public static double Squash(ActorWeights weights, int actionIndex, double preTanh)
    {
        double scale = (weights.ActionHigh[actionIndex] - (double)weights.ActionLow[actionIndex]) / 2.0;
        double bias = (weights.ActionHigh[actionIndex] + (double)weights.ActionLow[actionIndex]) / 2.0;
        return (Math.Tanh(preTanh) * scale) + bias;
    }

    public static void AssertClose(double expected, float actual, double tolerance, string what)
    {
        double error = Math.Abs(expected - actual);
        Assert.True(error <= tolerance * Math.Max(1.0, Math.Abs(expected)), $"{what}: expected {expected}, got {actual} (error {error}).");
    }
}
