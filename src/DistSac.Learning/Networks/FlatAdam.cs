using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistSac.Learning.Networks;

/// <summary>
/// Adam (Kingma and Ba 2015, as torch.optim.Adam without weight decay or amsgrad) over one <see cref="ParameterBlock"/>:
/// the whole network is updated by a handful of tensor ops instead of eight per parameter.
/// </summary>
public sealed class FlatAdam : IDisposable
{
    private readonly ParameterBlock _block;
    private readonly Tensor _firstMoment;
    private readonly Tensor _secondMoment;
    private readonly double _beta1;
    private readonly double _beta2;
    private readonly double _epsilon;

    public FlatAdam(ParameterBlock block, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        if (learningRate <= 0 || double.IsNaN(learningRate)) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "Learning rate must be > 0.");
        _block = block;
        LearningRate = learningRate;
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = epsilon;
        _firstMoment = zeros_like(block.Values);
        _secondMoment = zeros_like(block.Values);
    }

    public double LearningRate { get; set; }
    public long StepCount { get; private set; }
    public Tensor FirstMoment => _firstMoment;
    public Tensor SecondMoment => _secondMoment;

    public void ZeroGrad() => _block.ZeroGradients();

    /// <summary>
    /// One Adam step, unless a gradient is NaN or infinite: then nothing changes (parameters, moments, step count) and
    /// it returns false, so one bad batch can never poison the weights.
    /// </summary>
    public bool Step()
    {
        if (!GradientsAreFinite()) return false;
        StepCount++;
        var biasCorrection1 = 1 - Math.Pow(_beta1, StepCount);
        var biasCorrection2 = 1 - Math.Pow(_beta2, StepCount);
        if (_block.Values.device_type == DeviceType.CPU)
        {
            // One fused pass over parameters, moments and gradients in C# instead of eight libtorch ops (each a full
            // pass over memory plus its per-op overhead). Gradients are left as they are (ZeroGrad clears them).
            FusedAdamKernel.Step(
                MemoryMarshal.Cast<byte, float>(_block.Values.bytes), MemoryMarshal.Cast<byte, float>(_block.Gradients.bytes),
                MemoryMarshal.Cast<byte, float>(_firstMoment.bytes), MemoryMarshal.Cast<byte, float>(_secondMoment.bytes),
                (float)_beta1, (float)_beta2, (float)(LearningRate / biasCorrection1), (float)(1 / Math.Sqrt(biasCorrection2)), (float)_epsilon);
            return true;
        }
        using var scope = NewDisposeScope();
        // Scalars held by `using` locals stay alive through each call (see TorchScalars for why that matters).
        using var beta1 = _beta1.ToScalar();
        using var oneMinusBeta1 = (1 - _beta1).ToScalar();
        using var beta2 = _beta2.ToScalar();
        using var oneMinusBeta2 = (1 - _beta2).ToScalar();
        using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
        using var epsilon = _epsilon.ToScalar();
        using var stepSize = (-LearningRate / biasCorrection1).ToScalar();
        using (no_grad())
        {
            var g = _block.Gradients;
            _firstMoment.mul_(beta1).add_(g, oneMinusBeta1);
            _secondMoment.mul_(beta2).addcmul_(g, g, oneMinusBeta2);
            var denominator = _secondMoment.sqrt().div_(sqrtBiasCorrection2).add_(epsilon, TorchScalars.One);
            _block.Values.addcdiv_(_firstMoment, denominator, stepSize);
        }
        return true;
    }

    private bool GradientsAreFinite()
    {
        if (_block.Values.device_type == DeviceType.CPU)
            return FusedAdamKernel.AllFinite(MemoryMarshal.Cast<byte, float>(_block.Gradients.bytes));
        // One host sync per step on an accelerator: the price of never applying a NaN.
        using var scope = NewDisposeScope();
        return torch.isfinite(_block.Gradients).all().item<bool>();
    }

    /// <summary>Restores the step count (checkpoint resume; the moments are restored as tensors).</summary>
    public void RestoreStepCount(long stepCount) => StepCount = stepCount;

    public void Dispose()
    {
        _firstMoment.Dispose();
        _secondMoment.Dispose();
    }
}

/// <summary>Adam's update for contiguous float32 spans: m, v and parameters updated in one pass.</summary>
internal static class FusedAdamKernel
{
    /// <summary>True when no value is NaN or infinite (x - x is 0 exactly for finite x, NaN otherwise).</summary>
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            var acc = Vector<float>.Zero;
            var v = MemoryMarshal.Cast<float, Vector<float>>(values);
            for (int k = 0; k < v.Length; k++) acc += v[k] - v[k];
            if (acc != Vector<float>.Zero) return false;
            i = v.Length * Vector<float>.Count;
        }
        for (; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) return false;
        }
        return true;
    }

    public static void Step(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> firstMoment, Span<float> secondMoment,
        float beta1, float beta2, float stepSize, float inverseSqrtBiasCorrection2, float epsilon)
    {
        int n = parameters.Length;
        if (gradients.Length != n || firstMoment.Length != n || secondMoment.Length != n)
            throw new ArgumentException("Parameters, gradients and moments must have the same length.");
        int i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var b1 = new Vector<float>(beta1);
            var c1 = new Vector<float>(1 - beta1);
            var b2 = new Vector<float>(beta2);
            var c2 = new Vector<float>(1 - beta2);
            var step = new Vector<float>(stepSize);
            var scale = new Vector<float>(inverseSqrtBiasCorrection2);
            var eps = new Vector<float>(epsilon);
            var p = MemoryMarshal.Cast<float, Vector<float>>(parameters);
            var g = MemoryMarshal.Cast<float, Vector<float>>(gradients);
            var m = MemoryMarshal.Cast<float, Vector<float>>(firstMoment);
            var v = MemoryMarshal.Cast<float, Vector<float>>(secondMoment);
            for (int k = 0; k < p.Length; k++)
            {
                var gk = g[k];
                var mk = b1 * m[k] + c1 * gk;
                var vk = b2 * v[k] + c2 * gk * gk;
                m[k] = mk;
                v[k] = vk;
                p[k] -= step * mk / (Vector.SquareRoot(vk) * scale + eps);
            }
            i = p.Length * Vector<float>.Count;
        }
        for (; i < n; i++)
        {
            var gi = gradients[i];
            var mi = beta1 * firstMoment[i] + (1 - beta1) * gi;
            var vi = beta2 * secondMoment[i] + (1 - beta2) * gi * gi;
            firstMoment[i] = mi;
            secondMoment[i] = vi;
            parameters[i] -= stepSize * mi / (MathF.Sqrt(vi) * inverseSqrtBiasCorrection2 + epsilon);
        }
    }
}
