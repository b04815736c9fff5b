namespace DistSac.Policy.Tests;

public class ActorNetworkTests
{
    private const double Tolerance = 1e-5;

    // Shapes chosen to hit every tile: 256 (32-wide strips), 37 -> 40 (32 + one 8-strip), 5 -> 8, 2A = 10 -> 16.
    public static TheoryData<int, int[], int, int> ShapesAndBatches()
    {
        var data = new TheoryData<int, int[], int, int>();
        (int Obs, int[] Hidden, int Act)[] shapes = [(3, [256, 256], 1), (3, [5], 1), (11, [37], 3), (11, [37, 20, 48], 5)];
        foreach ((int obs, int[] hidden, int act) in shapes)
        {
            foreach (int batch in (int[])[1, 3, 4, 7, 64])
            {
                data.Add(obs, hidden, act, batch);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ShapesAndBatches))]
    public void Forward_MatchesNaiveDoublePrecisionReference(int obs, int[] hidden, int act, int batch)
    {
        ActorWeights weights = ReferenceActor.RandomWeights(seed: batch + (31 * obs), obs, hidden, act);
        float[] observations = ReferenceActor.Uniform(new Random(batch), batch * obs, 3f);
        var network = new ActorNetwork(weights, maxBatch: 64);
        var mean = new float[batch * act];
        var logStd = new float[batch * act];

        network.Forward(observations, batch, mean, logStd);

        (double[] expectedMean, double[] expectedLogStd) = ReferenceActor.Forward(weights, observations, batch);
        for (int i = 0; i < mean.Length; i++)
        {
            ReferenceActor.AssertClose(expectedMean[i], mean[i], Tolerance, $"mean[{i}]");
            ReferenceActor.AssertClose(expectedLogStd[i], logStd[i], Tolerance, $"logStd[{i}]");
        }
    }

    [Theory]
    [InlineData((int)KernelPath.Scalar)]
    [InlineData((int)KernelPath.Vector128)]
    [InlineData((int)KernelPath.Vector256)]
    [InlineData((int)KernelPath.Vector256Wide)]
    public void Forward_MatchesNaiveReference_OnEveryKernelPathThisCpuSupports(int pathNumber)
    {
        // int, not KernelPath, because a public test method cannot take an internal type.
        var path = (KernelPath)pathNumber;
        // A path the CPU lacks cannot run here; the test then has nothing to check rather than failing.
        if (!LinearKernel.IsSupported(path))
        {
            return;
        }

        ActorWeights weights = ReferenceActor.RandomWeights(seed: 5, 11, [37, 64], 3);
        const int Batch = 7;
        float[] observations = ReferenceActor.Uniform(new Random(9), Batch * 11, 2f);
        var network = new ActorNetwork(weights, maxBatch: Batch, path);
        var mean = new float[Batch * 3];
        var logStd = new float[Batch * 3];

        network.Forward(observations, Batch, mean, logStd);

        (double[] expectedMean, double[] expectedLogStd) = ReferenceActor.Forward(weights, observations, Batch);
        for (int i = 0; i < mean.Length; i++)
        {
            ReferenceActor.AssertClose(expectedMean[i], mean[i], Tolerance, $"mean[{i}]");
            ReferenceActor.AssertClose(expectedLogStd[i], logStd[i], Tolerance, $"logStd[{i}]");
        }
    }

    // A worker stepping one env acts on one observation: the single-row kernel (64-wide tiles over the 256 hidden
    // units, the 4-chain head) is all that runs, and 5 samples reach it after one 4-row tile (the row offsets).
    [Theory]
    [InlineData((int)KernelPath.Vector128, 1)]
    [InlineData((int)KernelPath.Vector256, 1)]
    [InlineData((int)KernelPath.Vector256Wide, 1)]
    [InlineData((int)KernelPath.Vector256, 5)]
    [InlineData((int)KernelPath.Vector256Wide, 5)]
    public void Forward_OfFewObservations_MatchesNaiveReference_OnTheWorkersShape(int pathNumber, int batch)
    {
        var path = (KernelPath)pathNumber;
        if (!LinearKernel.IsSupported(path))
        {
            return;
        }

        ActorWeights weights = ReferenceActor.RandomWeights(seed: 17, 3, [256, 256], 1);
        float[] observations = ReferenceActor.Uniform(new Random(23), batch * 3, 2f);
        var network = new ActorNetwork(weights, maxBatch: 8, path);
        var mean = new float[batch];
        var logStd = new float[batch];

        network.Forward(observations, batch, mean, logStd);

        (double[] expectedMean, double[] expectedLogStd) = ReferenceActor.Forward(weights, observations, batch);
        for (int i = 0; i < batch; i++)
        {
            ReferenceActor.AssertClose(expectedMean[i], mean[i], Tolerance, $"mean[{i}]");
            ReferenceActor.AssertClose(expectedLogStd[i], logStd[i], Tolerance, $"logStd[{i}]");
        }
    }

    [Fact]
    public void Act_Deterministic_IsTanhOfMeanScaledIntoTheActionBounds()
    {
        ActorWeights weights = ReferenceActor.RandomWeights(seed: 1, 11, [37], 3);
        const int Batch = 5;
        float[] observations = ReferenceActor.Uniform(new Random(2), Batch * 11, 3f);
        var network = new ActorNetwork(weights, maxBatch: Batch);
        var actions = new float[Batch * 3];

        network.Act(observations, Batch, actions);

        (double[] mean, _) = ReferenceActor.Forward(weights, observations, Batch);
        for (int i = 0; i < actions.Length; i++)
        {
            ReferenceActor.AssertClose(ReferenceActor.Squash(weights, i % 3, mean[i]), actions[i], Tolerance, $"action[{i}]");
        }
    }

    [Fact]
    public void Act_Stochastic_IsTanhOfMeanPlusStdTimesNoise()
    {
        ActorWeights weights = ReferenceActor.RandomWeights(seed: 3, 11, [37], 3);
        const int Batch = 6;
        float[] observations = ReferenceActor.Uniform(new Random(4), Batch * 11, 3f);
        float[] noise = ReferenceActor.Uniform(new Random(5), Batch * 3, 2.5f);
        var network = new ActorNetwork(weights, maxBatch: Batch);
        var actions = new float[Batch * 3];

        network.Act(observations, Batch, actions, noise);

        (double[] mean, double[] logStd) = ReferenceActor.Forward(weights, observations, Batch);
        for (int i = 0; i < actions.Length; i++)
        {
            double expected = ReferenceActor.Squash(weights, i % 3, mean[i] + (Math.Exp(logStd[i]) * noise[i]));
            ReferenceActor.AssertClose(expected, actions[i], Tolerance, $"action[{i}]");
        }
    }

    [Fact]
    public void Act_WithDeterministicFlag_IgnoresTheNoise()
    {
        ActorWeights weights = ReferenceActor.RandomWeights(seed: 3, 4, [8], 2);
        float[] observations = ReferenceActor.Uniform(new Random(4), 2 * 4, 3f);
        var network = new ActorNetwork(weights, maxBatch: 2);
        var withNoise = new float[4];
        var withoutNoise = new float[4];

        network.Act(observations, 2, withNoise, [5f, -5f, 5f, -5f], deterministic: true);
        network.Act(observations, 2, withoutNoise);

        Assert.Equal(withoutNoise, withNoise);
    }

    [Fact]
    public void Forward_ClampsLogStdAtBothEnds()
    {
        // A zero last layer makes the outputs equal its bias: log_std pre-clamp values 5, -30 and 0.5.
        float[] bias = [0.1f, 0.2f, 0.3f, 5f, -30f, 0.5f];
        var layers = new[]
        {
            new LinearLayerWeights(2, 4, ReferenceActor.Uniform(new Random(1), 8, 1f), new float[4]),
            new LinearLayerWeights(4, 6, new float[24], bias),
        };
        var weights = new ActorWeights(1, layers, [-1f, -1f, -1f], [1f, 1f, 1f]);
        var network = new ActorNetwork(weights, maxBatch: 2);
        var mean = new float[6];
        var logStd = new float[6];

        network.Forward([0.3f, -0.7f, 1.5f, 2f], 2, mean, logStd);

        Assert.Equal([0.1f, 0.2f, 0.3f, 0.1f, 0.2f, 0.3f], mean);
        Assert.Equal([2f, -20f, 0.5f, 2f, -20f, 0.5f], logStd);
    }

    [Fact]
    public void Act_StaysWithinTheActionBoundsForExtremeNoise()
    {
        ActorWeights weights = ReferenceActor.RandomWeights(seed: 8, 3, [16], 2);
        var network = new ActorNetwork(weights, maxBatch: 2);
        var actions = new float[4];

        network.Act([1f, 2f, 3f, -1f, -2f, -3f], 2, actions, [1e6f, -1e6f, -1e6f, 1e6f]);

        for (int i = 0; i < actions.Length; i++)
        {
            Assert.InRange(actions[i], weights.ActionLow[i % 2], weights.ActionHigh[i % 2]);
        }
    }

    [Fact]
    public void Act_DoesNotAllocateAfterWarmUp()
    {
        ActorWeights weights = ReferenceActor.RandomWeights(seed: 2, 3, [256, 256], 1);
        const int Batch = 32;
        var network = new ActorNetwork(weights, maxBatch: Batch);
        float[] observations = ReferenceActor.Uniform(new Random(1), Batch * 3, 1f);
        var noise = new float[Batch];
        var actions = new float[Batch];
        var generator = new GaussianNoise(42);
        for (int i = 0; i < 1000; i++)
        {
            generator.Fill(noise);
            network.Act(observations, Batch, actions, noise);
            network.Act(observations, Batch, actions);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            generator.Fill(noise);
            network.Act(observations, Batch, actions, noise);
            network.Act(observations, Batch, actions);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Act_RejectsABatchLargerThanMaxBatch()
    {
        ActorWeights weights = ReferenceActor.RandomWeights(seed: 2, 3, [8], 1);
        var network = new ActorNetwork(weights, maxBatch: 4);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => network.Act(new float[15], 5, new float[5]));

        Assert.Contains("maxBatch 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Act_RejectsNoiseShorterThanTheBatch()
    {
        ActorWeights weights = ReferenceActor.RandomWeights(seed: 2, 3, [8], 2);
        var network = new ActorNetwork(weights, maxBatch: 4);

        var error = Assert.Throws<ArgumentException>(() => network.Act(new float[12], 4, new float[8], new float[7]));

        Assert.Contains("noise", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MeasureForwardsPerSecond_ReportsAPositiveRate()
    {
        ActorWeights weights = ReferenceActor.RandomWeights(seed: 2, 3, [64, 64], 1);
        var network = new ActorNetwork(weights, maxBatch: 16);

        double rate = ActorThroughput.MeasureForwardsPerSecond(network, 16, TimeSpan.FromMilliseconds(50));

        Assert.True(rate > 0 && double.IsFinite(rate), $"rate was {rate}");
    }
}
