using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DistSac.Learning.Networks;

/// <summary>
/// pi(a|s): an MLP gives mean and log-std of a Gaussian over u; the action is a = tanh(u) * scale + bias, so it lies
/// inside the environment's bounds. Layout matches DistSac.Policy's pure-C# actor: Linear weights [out, in], the last
/// layer emits [mean (A), log_std (A)].
/// </summary>
public sealed class SquashedGaussianActor : IDisposable
{
    public const double LogStdMin = -20;
    public const double LogStdMax = 2;
    private static readonly double HalfLogTwoPi = 0.5 * Math.Log(2 * Math.PI);

    private readonly int[] _weightIndex;
    private readonly int[] _biasIndex;
    private readonly Tensor _actionScale;
    private readonly Tensor _actionBias;
    private readonly Scalar _logProbConstant;
    private static readonly Scalar LogStdMinScalar = LogStdMin.ToScalar();
    private static readonly Scalar LogStdMaxScalar = LogStdMax.ToScalar();

    public SquashedGaussianActor(int observationSize, int actionSize, IReadOnlyList<int> hiddenSizes, float[] actionLow, float[] actionHigh, Device device)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(observationSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(actionSize, 1);
        if (actionLow.Length != actionSize || actionHigh.Length != actionSize)
            throw new ArgumentException($"Action bounds must have {actionSize} entries.", nameof(actionLow));
        ObservationSize = observationSize;
        ActionSize = actionSize;
        HiddenSizes = [.. hiddenSizes];
        ActionLow = (float[])actionLow.Clone();
        ActionHigh = (float[])actionHigh.Clone();

        var sizes = new List<int> { observationSize };
        sizes.AddRange(hiddenSizes);
        sizes.Add(2 * actionSize);
        Parameters = new ParameterBlock();
        _weightIndex = new int[sizes.Count - 1];
        _biasIndex = new int[sizes.Count - 1];
        for (int l = 0; l < sizes.Count - 1; l++)
        {
            _weightIndex[l] = Parameters.Add($"layers.{l}.weight", sizes[l + 1], sizes[l]);
            _biasIndex[l] = Parameters.Add($"layers.{l}.bias", sizes[l + 1]);
        }
        Parameters.Build(device, requiresGrad: true);
        for (int l = 0; l < sizes.Count - 1; l++)
        {
            Parameters.InitUniform(_weightIndex[l], sizes[l]);
            Parameters.InitUniform(_biasIndex[l], sizes[l]);
        }

        var scale = new float[actionSize];
        var bias = new float[actionSize];
        double logScaleSum = 0;
        for (int i = 0; i < actionSize; i++)
        {
            scale[i] = (actionHigh[i] - actionLow[i]) / 2f;
            bias[i] = (actionHigh[i] + actionLow[i]) / 2f;
            logScaleSum += Math.Log(scale[i]);
        }
        _actionScale = tensor(scale, device: device);
        _actionBias = tensor(bias, device: device);
        // Constant part of log pi(a|s): -A/2 log(2 pi) from the Gaussian, -2A log 2 from the stable tanh Jacobian,
        // -sum log(scale) from the affine rescaling a = tanh(u) * scale + bias.
        _logProbConstant = (-actionSize * HalfLogTwoPi - 2 * actionSize * Math.Log(2) - logScaleSum).ToScalar();
    }

    public int ObservationSize { get; }
    public int ActionSize { get; }
    public int[] HiddenSizes { get; }
    public float[] ActionLow { get; }
    public float[] ActionHigh { get; }
    public ParameterBlock Parameters { get; }
    public int LayerCount => _weightIndex.Length;
    public Parameter Weight(int layer) => Parameters[_weightIndex[layer]];
    public Parameter Bias(int layer) => Parameters[_biasIndex[layer]];

    /// <summary>Mean and clamped log-std of the pre-squash Gaussian, each [B, A].</summary>
    public (Tensor Mean, Tensor LogStd) Forward(Tensor observations)
    {
        var h = observations;
        int last = _weightIndex.Length - 1;
        for (int l = 0; l < last; l++)
        {
            h = F.linear(h, Weight(l), Bias(l)).relu_();
        }
        var output = F.linear(h, Weight(last), Bias(last));
        var mean = output.narrow(1, 0, ActionSize);
        var logStd = output.narrow(1, ActionSize, ActionSize).clamp(LogStdMinScalar, LogStdMaxScalar);
        return (mean, logStd);
    }

    /// <summary>
    /// Reparameterised sample a = tanh(mu + sigma * eps) * scale + bias and its log-density
    /// log pi(a|s) = sum_i [log N(u_i; mu_i, sigma_i) - log(scale_i (1 - tanh(u_i)^2))], with the Jacobian in the
    /// stable form log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)). Since u - mu = sigma * eps,
    /// log N(u; mu, sigma) = -eps^2/2 - log sigma - log(2 pi)/2 with the same gradients as the textbook form.
    /// </summary>
    public (Tensor Action, Tensor LogProb) Sample(Tensor observations, Generator? generator = null)
    {
        var (mean, logStd) = Forward(observations);
        var noise = randn(mean.shape, dtype: float32, device: mean.device, generator: generator);
        return SampleWithNoise(mean, logStd, noise);
    }

    /// <summary><see cref="Sample"/> with caller-supplied standard-normal noise (tests, reproducibility).</summary>
    public (Tensor Action, Tensor LogProb) SampleWithNoise(Tensor mean, Tensor logStd, Tensor noise)
    {
        // Every Scalar here is long-lived (TorchScalars): a temporary one can be freed mid-call by a GC on another thread.
        var u = torch.addcmul(mean, logStd.exp(), noise, TorchScalars.One);
        var action = torch.addcmul(_actionBias, u.tanh(), _actionScale, TorchScalars.One);
        var perDim = u.add(Softplus(u.mul(TorchScalars.MinusTwo)), TorchScalars.One);
        perDim.mul_(TorchScalars.Two).sub_(logStd).addcmul_(noise, noise, TorchScalars.MinusHalf);
        var logProb = perDim.sum(1, keepdim: true).add_(_logProbConstant, TorchScalars.One);
        return (action, logProb);
    }

    /// <summary>
    /// softplus(z) = max(z, 0) + log(1 + exp(-|z|)), stable for any z. Not F.softplus: TorchSharp builds its beta and
    /// threshold as temporary Scalars, which a GC on another thread can free mid-call (see TorchScalars).
    /// </summary>
    private static Tensor Softplus(Tensor z) => z.abs().neg_().exp().log1p().add_(z.relu(), TorchScalars.One);

    /// <summary>The deterministic (evaluation) action tanh(mu) * scale + bias.</summary>
    public Tensor Deterministic(Tensor observations)
    {
        var (mean, _) = Forward(observations);
        return torch.addcmul(_actionBias, mean.tanh(), _actionScale, TorchScalars.One);
    }

    public void Dispose()
    {
        Parameters.Dispose();
        _actionScale.Dispose();
        _actionBias.Dispose();
        _logProbConstant.Dispose();
    }
}
