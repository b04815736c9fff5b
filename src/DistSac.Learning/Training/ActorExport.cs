using System.Runtime.InteropServices;
using DistSac.Learning.Networks;
using DistSac.Policy;
using static TorchSharp.torch;

namespace DistSac.Learning.Training;

/// <summary>Copies the TorchSharp actor's parameters into DistSac.Policy's format, which workers run without libtorch.</summary>
public static class ActorExport
{
    public static ActorWeights ToActorWeights(SquashedGaussianActor actor, long version)
    {
        var copy = new ActorHostCopy(actor);
        copy.CopyFrom(actor);
        return copy.ToWeights(version);
    }
}

/// <summary>
/// A host copy of the actor's parameters in arrays allocated once, refilled by <see cref="CopyFrom"/>: the learner takes
/// one every few updates to publish, and a new ~270 KB array each time (large-object heap) cost a gen-2 collection
/// every ~150 updates. <see cref="ToWeights"/> wraps the arrays without copying, so a snapshot built from it is valid
/// only until the next <see cref="CopyFrom"/>.
/// </summary>
public sealed class ActorHostCopy
{
    private readonly LinearLayerWeights[] _layers;
    private readonly float[] _actionLow;
    private readonly float[] _actionHigh;

    public ActorHostCopy(SquashedGaussianActor actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        _layers = new LinearLayerWeights[actor.LayerCount];
        for (int l = 0; l < _layers.Length; l++)
        {
            var w = actor.Weight(l);
            int inputs = (int)w.shape[1], outputs = (int)w.shape[0];
            _layers[l] = new LinearLayerWeights(inputs, outputs, new float[inputs * outputs], new float[outputs]);
        }
        _actionLow = (float[])actor.ActionLow.Clone();
        _actionHigh = (float[])actor.ActionHigh.Clone();
    }

    /// <summary>Copies the actor's current parameters (from any device) into the arrays.</summary>
    public void CopyFrom(SquashedGaussianActor actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (actor.LayerCount != _layers.Length)
            throw new ArgumentException($"the actor has {actor.LayerCount} layers; this copy was made for {_layers.Length}.", nameof(actor));
        // A scope holds every temporary of the chains below: an unreachable TorchSharp temporary can be finalized by
        // the GC while libtorch still reads it (a use-after-free; see TorchScalars), which crashed a stopping learner.
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            for (int l = 0; l < _layers.Length; l++)
            {
                var layer = _layers[l];
                var w = actor.Weight(l);
                if (w.shape[0] != layer.OutputSize || w.shape[1] != layer.InputSize)
                    throw new ArgumentException($"actor layer {l} is {w.shape[1]}->{w.shape[0]}; this copy was made for {layer.InputSize}->{layer.OutputSize}.", nameof(actor));
                // As one block copy: TensorAccessor.CopyTo walks the elements one index at a time (~1 ms for this actor).
                MemoryMarshal.Cast<byte, float>(w.detach().cpu().contiguous().bytes).CopyTo(layer.Weight);
                MemoryMarshal.Cast<byte, float>(actor.Bias(l).detach().cpu().contiguous().bytes).CopyTo(layer.Bias);
            }
        }
    }

    /// <summary>The copied parameters as a snapshot (validated: shapes and finite values); it shares this copy's arrays.</summary>
    public ActorWeights ToWeights(long version) => new(version, _layers, _actionLow, _actionHigh);
}
