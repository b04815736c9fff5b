using DistSac.Learning.Tests.Reference;
using DistSac.Learning.Training;
using DistSac.Policy;
using static TorchSharp.torch;

namespace DistSac.Learning.Tests;

public sealed class LearnerCheckpointTests
{
    // alpha = 1e-8 plus a nearly deterministic actor (applied before writing) make an update independent of the
    // learner's private noise, so two learners in the same state take the same step.
    private static SacOptions Options => Learners.Options() with { InitialAlpha = 1e-8 };

    private static SacLearner TrainedLearner(int batchSeed = 60)
    {
        var learner = Learners.New(Options, seed: 5);
        using var batch = Learners.Batch(batchSeed);
        for (int i = 0; i < 4; i++) batch.UpdateOnce(learner);
        Learners.MakeActorNearlyDeterministic(learner.Actor);
        return learner;
    }

    private static double[][] State(SacLearner learner) =>
    [
        Host.Doubles(learner.Actor.Parameters.Values),
        Host.Doubles(learner.Critic.Parameters.Values),
        Host.Doubles(learner.CriticTarget.Parameters.Values),
        Host.Doubles(learner.LogAlpha),
    ];

    [Fact]
    public void WriteThenRead_RestoresEveryParameterExactlyAndTheCounters()
    {
        using var original = TrainedLearner();
        using var stream = new MemoryStream();
        LearnerCheckpoint.Write(stream, original, "Pendulum-v1", 1234, weightsVersionOffset: 5678);
        using var restored = Learners.New(Options, seed: 6);
        stream.Position = 0;

        var state = LearnerCheckpoint.Read(stream, restored);

        Assert.Equal(new LearnerCheckpointState("Pendulum-v1", 1234, 5678), state);
        Assert.Equal(original.UpdateCount, restored.UpdateCount);
        var expected = State(original);
        var actual = State(restored);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i]);
    }

    // The optimizer moments are not public; they show in the next step: a learner restored from the checkpoint steps
    // like the original, a learner with only the parameters copied does not. Both stand-ins were trained as long on
    // other data, so their own moments differ but their noise generators (not part of a checkpoint) are in step.
    [Fact]
    public void WriteThenRead_RestoresTheOptimizerState()
    {
        using var original = TrainedLearner();
        using var stream = new MemoryStream();
        LearnerCheckpoint.Write(stream, original, "Pendulum-v1", 0);
        using var restored = TrainedLearner(batchSeed: 62);
        stream.Position = 0;
        LearnerCheckpoint.Read(stream, restored);
        using var parametersOnly = TrainedLearner(batchSeed: 62);
        using (no_grad())
        {
            parametersOnly.Actor.Parameters.CopyFrom(original.Actor.Parameters);
            parametersOnly.Critic.Parameters.CopyFrom(original.Critic.Parameters);
            parametersOnly.CriticTarget.Parameters.CopyFrom(original.CriticTarget.Parameters);
            parametersOnly.LogAlpha.copy_(original.LogAlpha);
        }
        using var batch = Learners.Batch(61);

        batch.UpdateOnce(original);
        batch.UpdateOnce(restored);
        batch.UpdateOnce(parametersOnly);

        var expected = State(original);
        var resumed = State(restored);
        var fresh = State(parametersOnly);
        for (int i = 0; i < expected.Length; i++) Assert.True(Host.MaxAbsDifference(expected[i], resumed[i]) < 1e-6, $"state tensor {i} diverged after resuming");
        Assert.True(Host.MaxAbsDifference(expected[0], fresh[0]) > 1e-5, "fresh optimizer moments step like restored ones, so this test cannot see them");
    }

    // A run resumed with the temperature fixed (LearnAlpha = false) from a checkpoint that holds the temperature's Adam
    // state must either refuse the checkpoint or resume the actor and critics exactly; the first update of both
    // learners uses the same alpha, so their actor and critic steps must agree.
    [Fact]
    public void Read_OfLearnedTemperatureStateIntoAFixedTemperatureLearner_RefusesOrResumesActorAndCriticsExactly()
    {
        using var original = TrainedLearner();
        using var stream = new MemoryStream();
        LearnerCheckpoint.Write(stream, original, "Pendulum-v1", 0);
        using var fixedTemperature = Learners.New(Options with { LearnAlpha = false }, seed: 5);
        using (var other = Learners.Batch(62))
        {
            // Trained as long on other data, so its noise generator is in step with the original's.
            for (int i = 0; i < 4; i++) other.UpdateOnce(fixedTemperature);
        }
        stream.Position = 0;
        try
        {
            LearnerCheckpoint.Read(stream, fixedTemperature);
        }
        catch (InvalidDataException)
        {
            return;
        }
        using var batch = Learners.Batch(61);

        batch.UpdateOnce(original);
        batch.UpdateOnce(fixedTemperature);

        var expected = State(original);
        var actual = State(fixedTemperature);
        for (int i = 0; i < 3; i++) Assert.True(Host.MaxAbsDifference(expected[i], actual[i]) < 1e-6, $"state tensor {i} diverged after resuming by {Host.MaxAbsDifference(expected[i], actual[i])}");
        Assert.Equal(stream.Length, stream.Position);
    }

    [Fact]
    public void Read_IntoALearnerWithOtherObservationOrActionSizes_ThrowsInvalidDataException()
    {
        using var original = TrainedLearner();
        using var stream = new MemoryStream();
        LearnerCheckpoint.Write(stream, original, "Pendulum-v1", 0);
        using var otherObservation = new SacLearner(4, 2, Learners.ActionLow, Learners.ActionHigh, Options, CPU, 1);
        using var otherAction = new SacLearner(3, 1, [-1f], [1f], Options, CPU, 1);

        stream.Position = 0;
        Assert.Throws<InvalidDataException>(() => LearnerCheckpoint.Read(stream, otherObservation));
        stream.Position = 0;
        Assert.Throws<InvalidDataException>(() => LearnerCheckpoint.Read(stream, otherAction));
    }

    [Fact]
    public void Read_IntoALearnerWithOtherHiddenSizes_ThrowsInvalidDataException()
    {
        using var original = TrainedLearner();
        using var stream = new MemoryStream();
        LearnerCheckpoint.Write(stream, original, "Pendulum-v1", 0);
        using var narrower = Learners.New(Options with { HiddenSizes = [8, 8] });
        stream.Position = 0;

        Assert.Throws<InvalidDataException>(() => LearnerCheckpoint.Read(stream, narrower));
    }

    [Fact]
    public void Read_OfSomethingElse_ThrowsInvalidDataException()
    {
        using var learner = Learners.New(Options);
        using var stream = new MemoryStream("not a checkpoint at all"u8.ToArray());

        Assert.Throws<InvalidDataException>(() => LearnerCheckpoint.Read(stream, learner));
    }

    [Fact]
    public void Save_WritesTheLearnerAndAnActorFileThePureCSharpPolicyLoads()
    {
        using var learner = TrainedLearner();
        var root = Path.Combine(Path.GetTempPath(), "distsac-learning-tests-" + Guid.NewGuid().ToString("N"));
        try
        {
            var run = RunDirectory.Create(root, "run-1");

            LearnerCheckpoint.Save(run, learner, "Pendulum-v1", 99);

            Assert.True(File.Exists(run.LearnerCheckpointPath));
            Assert.Empty(Directory.GetFiles(run.CheckpointDirectory, "*.tmp"));
            var weights = ActorWeights.FromBytes(File.ReadAllBytes(run.ActorWeightsPath));
            Assert.Equal(learner.UpdateCount, weights.Version);
            Assert.Equal(learner.Actor.LayerCount, weights.Layers.Count);
            for (int l = 0; l < weights.Layers.Count; l++)
            {
                Assert.Equal(Host.Floats(learner.Actor.Weight(l)), weights.Layers[l].Weight);
                Assert.Equal(Host.Floats(learner.Actor.Bias(l)), weights.Layers[l].Bias);
            }
            using var restored = Learners.New(Options, seed: 7);
            var state = LearnerCheckpoint.Load(run, restored, warning => Assert.Fail(warning))!;
            Assert.Equal(("Pendulum-v1", 99L), (state.EnvId, state.EnvSteps));
            Assert.Equal(Host.Doubles(learner.Critic.Parameters.Values), Host.Doubles(restored.Critic.Parameters.Values));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
