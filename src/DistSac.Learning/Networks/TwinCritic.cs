using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistSac.Learning.Networks;

/// <summary>
/// The two Q networks of clipped double-Q learning as one ensemble: layer weights are [2, in, out] and every layer
/// is a single batched matmul (baddbmm) for both critics. Measured faster than two separate MLPs because each op
/// carries twice the work for the same TorchSharp overhead.
/// </summary>
public sealed class TwinCritic : IDisposable
{
    public const int EnsembleSize = 2;
    private readonly int[] _weightIndex;
    private readonly int[] _biasIndex;
    private readonly Tensor[] _detachedWeights;
    private readonly Tensor[] _detachedBiases;

    public TwinCritic(int observationSize, int actionSize, IReadOnlyList<int> hiddenSizes, Device device, bool requiresGrad = true)
    {
        ObservationSize = observationSize;
        ActionSize = actionSize;
        var sizes = new List<int> { observationSize + actionSize };
        sizes.AddRange(hiddenSizes);
        sizes.Add(1);
        Parameters = new ParameterBlock();
        _weightIndex = new int[sizes.Count - 1];
        _biasIndex = new int[sizes.Count - 1];
        for (int l = 0; l < sizes.Count - 1; l++)
        {
            _weightIndex[l] = Parameters.Add($"layers.{l}.weight", EnsembleSize, sizes[l], sizes[l + 1]);
            _biasIndex[l] = Parameters.Add($"layers.{l}.bias", EnsembleSize, 1, sizes[l + 1]);
        }
        Parameters.Build(device, requiresGrad);
        _detachedWeights = new Tensor[_weightIndex.Length];
        _detachedBiases = new Tensor[_weightIndex.Length];
        for (int l = 0; l < sizes.Count - 1; l++)
        {
            Parameters.InitUniform(_weightIndex[l], sizes[l]);
            Parameters.InitUniform(_biasIndex[l], sizes[l]);
            // Detached aliases share storage, so they always see the current weights but never collect gradients.
            _detachedWeights[l] = Parameters[_weightIndex[l]].detach();
            _detachedBiases[l] = Parameters[_biasIndex[l]].detach();
        }
    }

    public int ObservationSize { get; }
    public int ActionSize { get; }
    public ParameterBlock Parameters { get; }
    public int LayerCount => _weightIndex.Length;
    public Parameter Weight(int layer) => Parameters[_weightIndex[layer]];
    public Parameter Bias(int layer) => Parameters[_biasIndex[layer]];

    /// <summary>
    /// Q1 and Q2 for each (s, a): [2, B, 1]. With <paramref name="detachWeights"/> the critics act as fixed functions
    /// of the action (the actor step): gradients reach the action but no weight gradient is computed.
    /// </summary>
    public Tensor Forward(Tensor observations, Tensor actions, bool detachWeights = false)
    {
        var x = torch.cat([observations, actions], 1);
        var batch = x.shape[0];
        var h = x.unsqueeze(0).expand(EnsembleSize, batch, x.shape[1]);
        int last = _weightIndex.Length - 1;
        for (int l = 0; l <= last; l++)
        {
            var w = detachWeights ? _detachedWeights[l] : Weight(l);
            var b = detachWeights ? _detachedBiases[l] : Bias(l);
            h = BatchedAffine(h, w, b);
            if (l < last) h = h.relu_();
        }
        return h;
    }

    /// <summary>
    /// b + h @ w. TorchSharp 0.107 binds Tensor.baddbmm(batch1, batch2) as batch2 + this @ batch1 (argument order
    /// differs from PyTorch's input.baddbmm(batch1, batch2)); a unit test pins this against bmm + add.
    /// </summary>
    internal static Tensor BatchedAffine(Tensor h, Tensor w, Tensor b) => h.baddbmm(w, b);

    public void Dispose()
    {
        foreach (var t in _detachedWeights) t.Dispose();
        foreach (var t in _detachedBiases) t.Dispose();
        Parameters.Dispose();
    }
}
