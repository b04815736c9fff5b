using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistSac.Learning.Networks;

/// <summary>
/// All parameters of one network in a single contiguous tensor, with each <see cref="Parameter"/> a view into it and
/// each gradient a view into one flat gradient tensor. Adam, zeroing gradients and Polyak averaging then cost one
/// tensor op per network instead of one per parameter: at batch 256 TorchSharp's per-op overhead is a visible share
/// of an update (see docs/benchmarks.md).
/// </summary>
public sealed class ParameterBlock : IDisposable
{
    private readonly List<(string Name, long[] Shape, long Offset)> _layout = [];
    private long _size;
    private Tensor? _values;
    private Tensor? _gradients;
    private readonly List<Parameter> _parameters = [];

    public Tensor Values => _values ?? throw new InvalidOperationException("ParameterBlock.Build() has not been called.");
    public Tensor Gradients => _gradients ?? throw new InvalidOperationException("ParameterBlock.Build() has not been called.");
    public IReadOnlyList<Parameter> Parameters => _parameters;
    public long Size => _size;

    /// <summary>Reserves a parameter of the given shape; returns its index for <see cref="this[int]"/>.</summary>
    public int Add(string name, params long[] shape)
    {
        if (_values is not null) throw new InvalidOperationException("Cannot add parameters after Build().");
        long n = 1;
        foreach (var d in shape) n *= d;
        _layout.Add((name, shape, _size));
        _size += n;
        return _layout.Count - 1;
    }

    public Parameter this[int index] => _parameters[index];

    public string NameOf(int index) => _layout[index].Name;

    /// <summary>Allocates the flat tensors on <paramref name="device"/> and the parameter views.</summary>
    public void Build(Device device, bool requiresGrad)
    {
        _values = zeros(_size, dtype: float32, device: device);
        _gradients = requiresGrad ? zeros(_size, dtype: float32, device: device) : null;
        foreach (var (_, shape, offset) in _layout)
        {
            long n = 1;
            foreach (var d in shape) n *= d;
            // TorchSharp's Parameter constructor makes an intermediate tensor; the scope disposes it.
            using var scope = NewDisposeScope();
            using var slice = _values.narrow(0, offset, n);
            using var view = slice.view(shape);
            var p = new Parameter(view, requiresGrad);
            if (requiresGrad)
            {
                // With a defined .grad and grad mode off, autograd's AccumulateGrad adds in place, so every
                // backward lands in the flat gradient tensor. The setter keeps its own reference to the view.
                using var gradSlice = _gradients!.narrow(0, offset, n);
                using var gradView = gradSlice.view(shape);
                p.grad = gradView;
            }
            p.DetachFromDisposeScope();
            _parameters.Add(p);
        }
    }

    /// <summary>PyTorch's nn.Linear default initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.</summary>
    public void InitUniform(int index, long fanIn, Generator? generator = null)
    {
        var bound = 1.0 / Math.Sqrt(fanIn);
        // In-place ops return a new managed wrapper of the same tensor: the scope disposes it.
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            _parameters[index].uniform_(-bound, bound, generator);
        }
    }

    public void ZeroGradients()
    {
        using var scope = NewDisposeScope();
        _gradients?.zero_();
    }

    public void CopyFrom(ParameterBlock source)
    {
        using var scope = NewDisposeScope();
        using (no_grad()) Values.copy_(source.Values);
    }

    /// <summary>Polyak averaging: this = (1 - tau) * this + tau * source, one fused op.</summary>
    public void PolyakUpdateFrom(ParameterBlock source, Tensor tau)
    {
        using var scope = NewDisposeScope();
        using (no_grad()) Values.lerp_(source.Values, tau);
    }

    public void Dispose()
    {
        foreach (var p in _parameters) p.Dispose();
        _values?.Dispose();
        _gradients?.Dispose();
    }
}
