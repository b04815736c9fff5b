using DistSac.Envs;
using DistSac.Policy;

namespace DistSac.Worker;

/// <summary>
/// An untrained actor with torch.nn.Linear's default initialisation (uniform in +-1/sqrt(fan_in)): the same
/// arithmetic cost as a trained one, for benchmarks and tests that need weights before any learner exists.
/// </summary>
public static class RandomActor
{
    public static ActorWeights Create(EnvSpec spec, IReadOnlyList<int> hidden, int seed, long version = 0)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(hidden);
        var random = new Random(seed);
        var layers = new LinearLayerWeights[hidden.Count + 1];
        int input = spec.ObservationSize;
        for (int l = 0; l < layers.Length; l++)
        {
            int output = l < hidden.Count ? hidden[l] : 2 * spec.ActionSize;
            float bound = 1f / MathF.Sqrt(input);
            var weight = new float[input * output];
            var bias = new float[output];
            for (int i = 0; i < weight.Length; i++)
            {
                weight[i] = ((2f * random.NextSingle()) - 1f) * bound;
            }

            for (int i = 0; i < bias.Length; i++)
            {
                bias[i] = ((2f * random.NextSingle()) - 1f) * bound;
            }

            layers[l] = new LinearLayerWeights(input, output, weight, bias);
            input = output;
        }

        return new ActorWeights(version, layers, (float[])spec.ActionLow.Clone(), (float[])spec.ActionHigh.Clone());
    }
}
