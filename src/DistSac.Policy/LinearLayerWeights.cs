namespace DistSac.Policy;

/// <summary>
/// One fully connected layer exactly as <c>torch.nn.Linear</c> stores it: <see cref="Weight"/> is row-major
/// [<see cref="OutputSize"/>, <see cref="InputSize"/>], so the learner can copy its parameter tensors verbatim.
/// </summary>
public sealed class LinearLayerWeights
{
    public LinearLayerWeights(int inputSize, int outputSize, float[] weight, float[] bias)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputSize, 1);
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(bias);
        if ((long)inputSize * outputSize != weight.Length)
        {
            throw new ArgumentException(
                $"Weight has {weight.Length} values but a {inputSize}->{outputSize} layer needs {(long)inputSize * outputSize} ([out, in] row-major).",
                nameof(weight));
        }

        if (bias.Length != outputSize)
        {
            throw new ArgumentException($"Bias has {bias.Length} values but the layer has {outputSize} outputs.", nameof(bias));
        }

        InputSize = inputSize;
        OutputSize = outputSize;
        Weight = weight;
        Bias = bias;
    }

    public int InputSize { get; }

    public int OutputSize { get; }

    /// <summary>Row-major [OutputSize, InputSize]; element (o, i) is at <c>o * InputSize + i</c>.</summary>
    public float[] Weight { get; }

    public float[] Bias { get; }
}
