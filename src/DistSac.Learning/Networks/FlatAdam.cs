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

    public void Step()
    {
        StepCount++;
        var biasCorrection1 = 1 - Math.Pow(_beta1, StepCount);
        var biasCorrection2 = 1 - Math.Pow(_beta2, StepCount);
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            var g = _block.Gradients;
            _firstMoment.mul_(_beta1).add_(g, 1 - _beta1);
            _secondMoment.mul_(_beta2).addcmul_(g, g, 1 - _beta2);
            var denominator = _secondMoment.sqrt().div_(Math.Sqrt(biasCorrection2)).add_(_epsilon);
            _block.Values.addcdiv_(_firstMoment, denominator, -LearningRate / biasCorrection1);
        }
    }

    /// <summary>Restores the step count (checkpoint resume; the moments are restored as tensors).</summary>
    public void RestoreStepCount(long stepCount) => StepCount = stepCount;

    public void Dispose()
    {
        _firstMoment.Dispose();
        _secondMoment.Dispose();
    }
}
