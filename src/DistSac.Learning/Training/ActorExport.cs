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
        using (no_grad())
        {
            for (int l = 0; l < actor.LayerCount; l++)
            {
                var w = actor.Weight(l);
                using var wHost = w.detach().cpu().contiguous();
                using var bHost = actor.Bias(l).detach().cpu().contiguous();
                layers[l] = new LinearLayerWeights((int)w.shape[1], (int)w.shape[0], wHost.data<float>().ToArray(), bHost.data<float>().ToArray());
            }
        }
        return new ActorWeights(version, layers, actor.ActionLow, actor.ActionHigh);
    }
}
