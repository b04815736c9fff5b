using System.Numerics.Tensors;

namespace DistSac.Policy;

/// <summary>
/// Pure-C# inference of the squashed-Gaussian actor for a batch of observations, as the learner's TorchSharp
/// actor computes it: MLP -> [mu, log_std], log_std clamped to [<see cref="LogStdMin"/>, <see cref="LogStdMax"/>],
/// a = tanh(mu + exp(log_std) * eps) * scale + bias. All buffers are sized for <c>maxBatch</c> at construction,
/// so calls allocate nothing. Not thread-safe: give each worker thread its own instance.
/// </summary>
public sealed class ActorNetwork
{
    // The SAC reference implementations' bounds: below -20 the std underflows to a deterministic policy,
    // above 2 (std ~7.4) tanh saturates anyway and log-probabilities become unstable.
    public const float LogStdMin = -20f;
    public const float LogStdMax = 2f;

    private readonly PreparedLayer[] _layers;
    private readonly AlignedFloats[] _activations;
    private readonly float[] _mean;
    private readonly float[] _logStd;
    private readonly float[] _scaleTiled;
    private readonly float[] _biasTiled;
    private readonly KernelPath _path;

    /// <summary>
    /// The linear kernel this process runs (Vector256Wide, Vector256, Vector128 or Scalar): fixed by the CPU under the JIT,
    /// and by the instruction set chosen at publish for Native AOT, so a worker logs it at start.
    /// </summary>
    public static string KernelName => LinearKernel.Best.ToString();

    public ActorNetwork(ActorWeights weights, int maxBatch)
        : this(weights, maxBatch, LinearKernel.Best)
    {
    }

    internal ActorNetwork(ActorWeights weights, int maxBatch, KernelPath path)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        if (!LinearKernel.IsSupported(path))
        {
            throw new PlatformNotSupportedException($"Kernel path {path} is not supported on this CPU.");
        }

        Weights = weights;
        MaxBatch = maxBatch;
        ObservationSize = weights.ObservationSize;
        ActionSize = weights.ActionSize;
        _path = path;

        _layers = new PreparedLayer[weights.Layers.Count];
        int widest = 0;
        for (int l = 0; l < _layers.Length; l++)
        {
            _layers[l] = new PreparedLayer(weights.Layers[l], relu: l < _layers.Length - 1);
            widest = Math.Max(widest, _layers[l].Width);
        }

        // Two ping-pong buffers suffice: layer l reads one and writes the other.
        _activations = [new AlignedFloats(maxBatch * widest), new AlignedFloats(maxBatch * widest)];

        int n = maxBatch * ActionSize;
        _mean = new float[n];
        _logStd = new float[n];

        // Scale and bias repeated per sample turn the final rescale into one span-wide FMA.
        _scaleTiled = new float[n];
        _biasTiled = new float[n];
        for (int i = 0; i < n; i++)
        {
            int a = i % ActionSize;
            _scaleTiled[i] = (weights.ActionHigh[a] - weights.ActionLow[a]) / 2f;
            _biasTiled[i] = (weights.ActionHigh[a] + weights.ActionLow[a]) / 2f;
        }
    }

    public ActorWeights Weights { get; }

    public int MaxBatch { get; }

    public int ObservationSize { get; }

    public int ActionSize { get; }

    /// <summary>
    /// Writes <paramref name="batch"/> actions in environment units. Deterministic (tanh of the mean) when
    /// <paramref name="deterministic"/> is set or <paramref name="noise"/> is empty; otherwise
    /// <paramref name="noise"/> holds batch*A standard-normal draws supplied by the caller.
    /// </summary>
    public void Act(ReadOnlySpan<float> observations, int batch, Span<float> actions, ReadOnlySpan<float> noise = default, bool deterministic = false)
    {
        RequireBatch(batch);
        int n = batch * ActionSize;
        RequireLength(actions.Length, n, nameof(actions));
        bool stochastic = !deterministic && !noise.IsEmpty;
        if (stochastic)
        {
            RequireLength(noise.Length, n, nameof(noise));
        }

        Span<float> mean = _mean.AsSpan(0, n);
        Span<float> logStd = _logStd.AsSpan(0, n);
        Forward(observations, batch, mean, logStd);
        if (stochastic)
        {
            // Pre-squash sample u = mu + sigma * eps (reparameterisation, SAC paper eq. 11).
            TensorPrimitives.Exp(logStd, logStd);
            TensorPrimitives.FusedMultiplyAdd(logStd, noise[..n], mean, mean);
        }

        TensorPrimitives.Tanh(mean, mean);
        TensorPrimitives.FusedMultiplyAdd(mean, _scaleTiled.AsSpan(0, n), _biasTiled.AsSpan(0, n), actions[..n]);
    }

    /// <summary>Writes the raw mean and the clamped log_std, each [batch, A] row-major.</summary>
    public void Forward(ReadOnlySpan<float> observations, int batch, Span<float> mean, Span<float> logStd)
    {
        RequireBatch(batch);
        int a = ActionSize;
        RequireLength(observations.Length, batch * ObservationSize, nameof(observations));
        RequireLength(mean.Length, batch * a, nameof(mean));
        RequireLength(logStd.Length, batch * a, nameof(logStd));
        if (batch == 0)
        {
            return;
        }

        ReadOnlySpan<float> input = observations;
        int inputStride = ObservationSize;
        Span<float> output = default;
        for (int l = 0; l < _layers.Length; l++)
        {
            PreparedLayer layer = _layers[l];
            output = _activations[l & 1].Span;
            LinearKernel.Forward(_path, input, inputStride, batch, layer.InputSize, layer.WeightT.Span, layer.Bias.Span, layer.Width, output, layer.Width, layer.Relu);
            input = output;
            inputStride = layer.Width;
        }

        for (int s = 0; s < batch; s++)
        {
            Span<float> row = output.Slice(s * inputStride, 2 * a);
            row[..a].CopyTo(mean.Slice(s * a, a));
            row[a..].CopyTo(logStd.Slice(s * a, a));
        }

        Span<float> clamped = logStd[..(batch * a)];
        TensorPrimitives.Clamp(clamped, LogStdMin, LogStdMax, clamped);
    }

    private void RequireBatch(int batch)
    {
        if ((uint)batch > (uint)MaxBatch)
        {
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"Batch must be between 0 and the network's maxBatch {MaxBatch}.");
        }
    }

    private static void RequireLength(int actual, int required, string name)
    {
        if (actual < required)
        {
            throw new ArgumentException($"{name} has {actual} elements but the batch needs {required}.", name);
        }
    }

    /// <summary>A layer rearranged for the kernel: Wᵀ [in, width] with zero-padded columns, bias padded alike.</summary>
    private sealed class PreparedLayer
    {
        public PreparedLayer(LinearLayerWeights source, bool relu)
        {
            InputSize = source.InputSize;
            Width = LinearKernel.PadWidth(source.OutputSize);
            Relu = relu;
            WeightT = new AlignedFloats(InputSize * Width);
            Bias = new AlignedFloats(Width);
            Span<float> wt = WeightT.Span;
            for (int o = 0; o < source.OutputSize; o++)
            {
                for (int i = 0; i < InputSize; i++)
                {
                    wt[(i * Width) + o] = source.Weight[(o * InputSize) + i];
                }
            }

            source.Bias.CopyTo(Bias.Span);
        }

        public int InputSize { get; }

        public int Width { get; }

        public bool Relu { get; }

        public AlignedFloats WeightT { get; }

        public AlignedFloats Bias { get; }
    }
}
