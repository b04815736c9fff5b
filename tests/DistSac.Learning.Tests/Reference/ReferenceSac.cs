using DistSac.Learning.Networks;

namespace DistSac.Learning.Tests.Reference;

/// <summary>
/// The SAC quantities written out in double precision from the paper's formulas, reading only the networks' weights:
/// the independent side of every numeric assertion in this project.
/// </summary>
internal static class ReferenceSac
{
    private static readonly double HalfLogTwoPi = 0.5 * Math.Log(2 * Math.PI);

    /// <summary>Actor MLP (ReLU between Linear layers with weights [out, in]): raw mean and unclamped log_std, each [B, A].</summary>
    public static (double[] Mean, double[] RawLogStd) ActorForward(SquashedGaussianActor actor, double[] observations, int batch)
    {
        var h = observations;
        int width = actor.ObservationSize;
        for (int l = 0; l < actor.LayerCount; l++)
        {
            var w = Host.Doubles(actor.Weight(l));
            var b = Host.Doubles(actor.Bias(l));
            int outputs = b.Length;
            var next = new double[batch * outputs];
            for (int s = 0; s < batch; s++)
            {
                for (int o = 0; o < outputs; o++)
                {
                    double z = b[o];
                    for (int i = 0; i < width; i++) z += w[o * width + i] * h[s * width + i];
                    next[s * outputs + o] = l < actor.LayerCount - 1 ? Math.Max(z, 0) : z;
                }
            }
            h = next;
            width = outputs;
        }
        int a = actor.ActionSize;
        var mean = new double[batch * a];
        var logStd = new double[batch * a];
        for (int s = 0; s < batch; s++)
        {
            for (int i = 0; i < a; i++)
            {
                mean[s * a + i] = h[s * 2 * a + i];
                logStd[s * a + i] = h[s * 2 * a + a + i];
            }
        }
        return (mean, logStd);
    }

    public static double ClampLogStd(double logStd) => Math.Clamp(logStd, -20.0, 2.0);

    /// <summary>Twin critic: Q_k(s, a) = MLP_k([s, a]) with Linear weights [out, in], for k = 0, 1, each [B].</summary>
    public static double[][] CriticForward(TwinCritic critic, double[] observations, double[] actions, int batch)
    {
        int o = critic.ObservationSize, a = critic.ActionSize;
        int width = o + a;
        var q = new double[2][];
        for (int k = 0; k < 2; k++)
        {
            var h = new double[batch * width];
            for (int s = 0; s < batch; s++)
            {
                for (int i = 0; i < o; i++) h[s * width + i] = observations[s * o + i];
                for (int i = 0; i < a; i++) h[s * width + o + i] = actions[s * a + i];
            }
            int inputs = width;
            for (int l = 0; l < critic.LayerCount; l++)
            {
                var w = Host.Doubles(critic.Weight(k, l));
                var b = Host.Doubles(critic.Bias(k, l));
                int outputs = b.Length;
                var next = new double[batch * outputs];
                for (int s = 0; s < batch; s++)
                {
                    for (int j = 0; j < outputs; j++)
                    {
                        double z = b[j];
                        for (int i = 0; i < inputs; i++) z += w[j * inputs + i] * h[s * inputs + i];
                        next[s * outputs + j] = l < critic.LayerCount - 1 ? Math.Max(z, 0) : z;
                    }
                }
                h = next;
                inputs = outputs;
            }
            q[k] = h;
        }
        return q;
    }

    /// <summary>log N(u; mu, sigma), the textbook form.</summary>
    public static double LogNormal(double u, double mu, double logSigma)
    {
        double z = (u - mu) / Math.Exp(logSigma);
        return -0.5 * z * z - logSigma - HalfLogTwoPi;
    }

    /// <summary>log(1 - tanh(u)^2) without cancellation: log 4 - 2|u| - 2 log(1 + exp(-2|u|)).</summary>
    public static double LogOneMinusTanhSquared(double u)
    {
        double m = Math.Abs(u);
        return Math.Log(4) - 2 * m - 2 * Math.Log(1 + Math.Exp(-2 * m));
    }

    public static double Scale(float low, float high) => ((double)high - low) / 2;

    public static double Bias(float low, float high) => ((double)high + low) / 2;

    /// <summary>
    /// Squashed, rescaled sample for one state: u = mu + sigma eps, a = tanh(u) scale + bias and
    /// log pi(a|s) = sum_i [log N(u_i; mu_i, sigma_i) - log(scale_i (1 - tanh(u_i)^2))].
    /// </summary>
    public static (double[] Action, double LogProb) Sample(ReadOnlySpan<double> mean, ReadOnlySpan<double> logStd, ReadOnlySpan<double> noise, float[] low, float[] high)
    {
        var action = new double[mean.Length];
        double logProb = 0;
        for (int i = 0; i < mean.Length; i++)
        {
            double u = mean[i] + Math.Exp(logStd[i]) * noise[i];
            double scale = Scale(low[i], high[i]);
            action[i] = Math.Tanh(u) * scale + Bias(low[i], high[i]);
            logProb += LogNormal(u, mean[i], logStd[i]) - Math.Log(scale) - LogOneMinusTanhSquared(u);
        }
        return (action, logProb);
    }
}
