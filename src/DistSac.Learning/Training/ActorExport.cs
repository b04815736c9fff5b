using DistSac.Learning.Networks;
using DistSac.Policy;
using static TorchSharp.torch;

namespace DistSac.Learning.Training;

/// <summary>Copies the TorchSharp actor's parameters into DistSac.Policy's format, which workers run without libtorch.</summary>
public static class ActorExport
{
    public static ActorWeights ToActorWeights(SquashedGaussianActor actor, long version)
    {
        var layers = new LinearLayerWeights[actor.LayerCount];
        // A scope holds every temporary of the chains below: an unreachable TorchSharp temporary can be finalized by
        // the GC while libtorch still reads it (a use-after-free; see TorchScalars), which crashed a stopping learner.
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            for (int l = 0; l < actor.LayerCount; l++)
            {
                var w = actor.Weight(l);
                var wHost = w.detach().cpu().contiguous();
                var bHost = actor.Bias(l).detach().cpu().contiguous();
                layers[l] = new LinearLayerWeights((int)w.shape[1], (int)w.shape[0], wHost.data<float>().ToArray(), bHost.data<float>().ToArray());
            }
        }
        return new ActorWeights(version, layers, actor.ActionLow, actor.ActionHigh);
    }
}
