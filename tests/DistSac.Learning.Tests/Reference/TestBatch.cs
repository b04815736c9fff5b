using static TorchSharp.torch;

namespace DistSac.Learning.Tests.Reference;

/// <summary>A batch of random transitions, kept both as host arrays (for reference math) and as [B, dim] tensors.</summary>
internal sealed class TestBatch : IDisposable
{
    public TestBatch(int seed, int batch, int observationSize, float[] actionLow, float[] actionHigh, float[]? terminated = null)
    {
        var random = new Random(seed);
        int a = actionLow.Length;
        Size = batch;
        ObservationValues = Host.Uniform(random, batch * observationSize, -1, 1);
        ActionValues = new float[batch * a];
        for (int k = 0; k < ActionValues.Length; k++)
        {
            int i = k % a;
            ActionValues[k] = (float)(actionLow[i] + (actionHigh[i] - actionLow[i]) * random.NextDouble());
        }
        RewardValues = Host.Uniform(random, batch, -2, 1);
        NextObservationValues = Host.Uniform(random, batch * observationSize, -1, 1);
        TerminatedValues = terminated ?? new float[batch];
        Observations = Host.Matrix(ObservationValues, batch, observationSize);
        Actions = Host.Matrix(ActionValues, batch, a);
        Rewards = Host.Matrix(RewardValues, batch, 1);
        NextObservations = Host.Matrix(NextObservationValues, batch, observationSize);
        Terminated = Host.Matrix(TerminatedValues, batch, 1);
    }

    public int Size { get; }
    public float[] ObservationValues { get; }
    public float[] ActionValues { get; }
    public float[] RewardValues { get; }
    public float[] NextObservationValues { get; }
    public float[] TerminatedValues { get; }
    public Tensor Observations { get; }
    public Tensor Actions { get; }
    public Tensor Rewards { get; }
    public Tensor NextObservations { get; }
    public Tensor Terminated { get; }

    public void UpdateOnce(SacLearner learner) => learner.Update(Observations, Actions, Rewards, NextObservations, Terminated);

    public void Dispose()
    {
        Observations.Dispose();
        Actions.Dispose();
        Rewards.Dispose();
        NextObservations.Dispose();
        Terminated.Dispose();
    }
}
