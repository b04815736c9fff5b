using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DistSac.Learning.Networks;

/// <summary>
/// The two Q networks of clipped double-Q learning, Q_k(s, a) = MLP_k([s, a]), with all parameters of both in one
/// <see cref="ParameterBlock"/> so one optimizer op and one Polyak op serve both. Each layer is a plain addmm per critic:
/// measured faster on CPU than a [2, in, out] baddbmm ensemble at batch 256 (docs/benchmarks.md).
/// </summary>
public sealed class TwinCritic : IDisposable
{
    public const int EnsembleSize = 2;
    private static readonly long[] Axis0 = [0];
    private readonly int[,] _weightIndex;
    private readonly int[,] _biasIndex;
    private readonly Tensor[,] _detachedWeights;
    private readonly Tensor[,] _detachedBiases;

    public TwinCritic(int observationSize, int actionSize, IReadOnlyList<int> hiddenSizes, Device device, bool requiresGrad = true)
    {
        ObservationSize = observationSize;
        ActionSize = actionSize;
        var sizes = new List<int> { observationSize + actionSize };
        sizes.AddRange(hiddenSizes);
        sizes.Add(1);
        LayerCount = sizes.Count - 1;
        Parameters = new ParameterBlock();
        _weightIndex = new int[EnsembleSize, LayerCount];
        _biasIndex = new int[EnsembleSize, LayerCount];
        for (int k = 0; k < EnsembleSize; k++)
        {
            for (int l = 0; l < LayerCount; l++)
            {
                _weightIndex[k, l] = Parameters.Add($"q{k + 1}.layers.{l}.weight", sizes[l + 1], sizes[l]);
                _biasIndex[k, l] = Parameters.Add($"q{k + 1}.layers.{l}.bias", sizes[l + 1]);
            }
        }
        Parameters.Build(device, requiresGrad);
        _detachedWeights = new Tensor[EnsembleSize, LayerCount];
        _detachedBiases = new Tensor[EnsembleSize, LayerCount];
        for (int k = 0; k < EnsembleSize; k++)
        {
            for (int l = 0; l < LayerCount; l++)
            {
                Parameters.InitUniform(_weightIndex[k, l], sizes[l]);
                Parameters.InitUniform(_biasIndex[k, l], sizes[l]);
                // Detached aliases share storage, so they always see the current weights but never collect gradients.
                _detachedWeights[k, l] = Parameters[_weightIndex[k, l]].detach();
                _detachedBiases[k, l] = Parameters[_biasIndex[k, l]].detach();
            }
        }
    }

    public int ObservationSize { get; }
    public int ActionSize { get; }
    public int LayerCount { get; }
    public ParameterBlock Parameters { get; }

    /// <summary>Weight [out, in] of layer <paramref name="layer"/> of critic <paramref name="critic"/> (0 or 1).</summary>
    public Parameter Weight(int critic, int layer) => Parameters[_weightIndex[critic, layer]];
    public Parameter Bias(int critic, int layer) => Parameters[_biasIndex[critic, layer]];

    /// <summary>
    /// (Q1, Q2) for each (s, a), each [B, 1]. With <paramref name="detachWeights"/> the critics act as fixed functions
    /// of the action (the actor step): gradients reach the action but no weight gradient is computed.
    /// </summary>
    public (Tensor Q1, Tensor Q2) ForwardPair(Tensor observations, Tensor actions, bool detachWeights = false)
    {
        var x = torch.cat([observations, actions], 1);
        return (ForwardOne(0, x, detachWeights), ForwardOne(1, x, detachWeights));
    }

    /// <summary>Q1 and Q2 stacked: [2, B, 1].</summary>
    public Tensor Forward(Tensor observations, Tensor actions, bool detachWeights = false)
    {
        var (q1, q2) = ForwardPair(observations, actions, detachWeights);
        return torch.stack([q1, q2]);
    }

    /// <summary>min(Q1, Q2)(s, a), [B, 1]: the clipped double-Q estimate.</summary>
    public Tensor MinQ(Tensor observations, Tensor actions, bool detachWeights = false)
    {
        var (q1, q2) = ForwardPair(observations, actions, detachWeights);
        return torch.minimum(q1, q2);
    }

    private Tensor ForwardOne(int k, Tensor x, bool detachWeights)
    {
        var h = x;
        int last = LayerCount - 1;
        for (int l = 0; l <= last; l++)
        {
            var w = detachWeights ? _detachedWeights[k, l] : Weight(k, l);
            var b = detachWeights ? _detachedBiases[k, l] : Bias(k, l);
            h = F.linear(h, w, b);
            if (l < last) h = h.relu_();
        }
        return h;
    }

    public void Dispose()
    {
        foreach (var t in _detachedWeights) t.Dispose();
        foreach (var t in _detachedBiases) t.Dispose();
        Parameters.Dispose();
    }
}
