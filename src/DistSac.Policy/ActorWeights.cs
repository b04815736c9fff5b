using System.Collections.ObjectModel;

namespace DistSac.Policy;

/// <summary>
/// A versioned snapshot of the squashed-Gaussian actor: the MLP layers (ReLU between them, none after the last),
/// whose last layer emits [mean(A), log_std(A)], and the action bounds used to rescale tanh's (-1, 1).
/// The arrays are taken by reference, not copied: treat a snapshot as immutable once built.
/// </summary>
public sealed partial class ActorWeights
{
    public ActorWeights(long version, IReadOnlyList<LinearLayerWeights> layers, float[] actionLow, float[] actionHigh)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(actionLow);
        ArgumentNullException.ThrowIfNull(actionHigh);
        var copy = new LinearLayerWeights[layers.Count];
        for (int i = 0; i < copy.Length; i++)
        {
            copy[i] = layers[i] ?? throw new ArgumentException($"Layer {i} is null.", nameof(layers));
        }

        string? problem = FindProblem(copy, actionLow, actionHigh);
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(layers));
        }

        Version = version;
        Layers = new ReadOnlyCollection<LinearLayerWeights>(copy);
        ActionLow = actionLow;
        ActionHigh = actionHigh;
    }

    // Shares the already validated arrays: a new version of the same parameters costs no copy.
    private ActorWeights(ActorWeights source, long version)
    {
        Version = version;
        Layers = source.Layers;
        ActionLow = source.ActionLow;
        ActionHigh = source.ActionHigh;
    }

    /// <summary>The learner's policy version (number of published updates), not the file format version.</summary>
    public long Version { get; }

    public IReadOnlyList<LinearLayerWeights> Layers { get; }

    public float[] ActionLow { get; }

    public float[] ActionHigh { get; }

    public int ObservationSize => Layers[0].InputSize;

    public int ActionSize => ActionLow.Length;

    public ActorWeights WithVersion(long version) => new(this, version);

    /// <summary>
    /// Returns why these parts cannot form an actor, or null when they can. Shared by the constructor
    /// (ArgumentException) and <see cref="FromBytes"/> (InvalidDataException) so both reject the same things.
    /// </summary>
    private static string? FindProblem(LinearLayerWeights[] layers, float[] low, float[] high)
    {
        if (layers.Length == 0)
        {
            return "The actor has no layers; it needs at least one Linear layer.";
        }

        int actionSize = low.Length;
        if (actionSize == 0)
        {
            return "The action space is empty; ActionLow/ActionHigh need at least one dimension.";
        }

        if (high.Length != actionSize)
        {
            return $"ActionLow has {actionSize} dimensions but ActionHigh has {high.Length}.";
        }

        for (int i = 0; i < actionSize; i++)
        {
            if (!float.IsFinite(low[i]) || !float.IsFinite(high[i]) || low[i] > high[i])
            {
                return $"Action bound {i} is [{low[i]}, {high[i]}]; bounds must be finite with low <= high.";
            }
        }

        for (int l = 1; l < layers.Length; l++)
        {
            if (layers[l].InputSize != layers[l - 1].OutputSize)
            {
                return $"Shape mismatch: layer {l} takes {layers[l].InputSize} inputs but layer {l - 1} produces {layers[l - 1].OutputSize} outputs.";
            }
        }

        int lastOut = layers[^1].OutputSize;
        if (lastOut != 2 * actionSize)
        {
            return $"Shape mismatch: the last layer produces {lastOut} outputs but {actionSize} action dimensions need {2 * actionSize} (mean and log_std).";
        }

        for (int l = 0; l < layers.Length; l++)
        {
            int bad = IndexOfNonFinite(layers[l].Weight);
            if (bad >= 0)
            {
                return $"Layer {l} weight[{bad}] is non-finite ({layers[l].Weight[bad]}).";
            }

            bad = IndexOfNonFinite(layers[l].Bias);
            if (bad >= 0)
            {
                return $"Layer {l} bias[{bad}] is non-finite ({layers[l].Bias[bad]}).";
            }
        }

        return null;
    }

    private static int IndexOfNonFinite(float[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
