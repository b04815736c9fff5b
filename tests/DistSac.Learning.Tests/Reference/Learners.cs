using DistSac.Learning.Networks;
using static TorchSharp.torch;

namespace DistSac.Learning.Tests.Reference;

/// <summary>Small learners (Pendulum-like sizes, narrow layers) so each test runs in milliseconds.</summary>
internal static class Learners
{
    public const int ObservationSize = 3;
    public static readonly float[] ActionLow = [-2f, 0f];
    public static readonly float[] ActionHigh = [2f, 4f];
    public static int ActionSize => ActionLow.Length;

    public static SacOptions Options(int hidden = 16) => new() { HiddenSizes = [hidden, hidden] };

    public static SacLearner New(SacOptions options, long seed = 1, bool concurrentStreams = false) =>
        new(ObservationSize, ActionSize, ActionLow, ActionHigh, options, CPU, seed, concurrentStreams);

    public static TestBatch Batch(int seed, int size = 32, float[]? terminated = null) =>
        new(seed, size, ObservationSize, ActionLow, ActionHigh, terminated);

    /// <summary>
    /// Drives the actor's log_std to the -20 clamp, so its samples equal tanh(mu) scale + bias to within e^-20: the
    /// learner's private noise no longer matters, and an update becomes a function of the weights and the batch alone.
    /// (log pi still carries -eps^2/2, so pair this with a negligible alpha where log pi enters a loss.)
    /// </summary>
    public static void MakeActorNearlyDeterministic(SquashedGaussianActor actor)
    {
        int last = actor.LayerCount - 1, a = actor.ActionSize;
        using (no_grad())
        using (var weights = actor.Weight(last).narrow(0, a, a))
        using (var biases = actor.Bias(last).narrow(0, a, a))
        {
            weights.zero_();
            biases.fill_(-30);
        }
    }

    /// <summary>Actions tanh(mu(s)) scale + bias in double, from the actor's current weights.</summary>
    public static double[] MeanActions(SquashedGaussianActor actor, float[] observations, int batch)
    {
        var (mean, _) = ReferenceSac.ActorForward(actor, Array.ConvertAll(observations, v => (double)v), batch);
        var actions = new double[mean.Length];
        for (int k = 0; k < mean.Length; k++)
        {
            int i = k % actor.ActionSize;
            actions[k] = Math.Tanh(mean[k]) * ReferenceSac.Scale(actor.ActionLow[i], actor.ActionHigh[i]) + ReferenceSac.Bias(actor.ActionLow[i], actor.ActionHigh[i]);
        }
        return actions;
    }
}
