using DistSac.Learning.Tests.Reference;
using DistSac.Learning.Training;
using DistSac.Policy;

namespace DistSac.Learning.Tests;

/// <summary>
/// learner.ckpt carries its length and CRC-32 and keeps the previous generation: a damaged newest file falls back to
/// learner.ckpt.prev with a warning naming the file, and with no good generation loading stops with a clear error,
/// never a silent fresh start and never an EndOfStreamException.
/// </summary>
public sealed class CheckpointGenerationTests : IDisposable
{
    private static SacOptions Options => Learners.Options() with { InitialAlpha = 1e-8 };
    private readonly string _root = Directory.CreateTempSubdirectory("distsac-checkpoint-generations-").FullName;
    private readonly RunDirectory _run;
    private readonly SacLearner _learner = Learners.New(Options, seed: 5);
    private readonly TestBatch _batch = Learners.Batch(60);
    private readonly List<string> _warnings = [];

    public CheckpointGenerationTests() { _run = RunDirectory.Create(_root, "run"); }

    public void Dispose()
    {
        _batch.Dispose();
        _learner.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private double[] Parameters(SacLearner learner) => Host.Doubles(learner.Critic.Parameters.Values);

    /// <summary>Saves after 2 updates (the previous generation) and after 3 (the newest); returns the first one's critic.</summary>
    private double[] SaveTwoGenerations()
    {
        for (int i = 0; i < 2; i++) _batch.UpdateOnce(_learner);
        LearnerCheckpoint.Save(_run, _learner, "Pendulum-v1", 200, weightsVersionOffset: 10);
        var previous = Parameters(_learner);
        _batch.UpdateOnce(_learner);
        LearnerCheckpoint.Save(_run, _learner, "Pendulum-v1", 300, weightsVersionOffset: 10);
        return previous;
    }

    private LearnerCheckpointState? Load(SacLearner into) => LearnerCheckpoint.Load(_run, into, _warnings.Add);

    [Fact]
    public void Save_KeepsThePreviousGenerationOfBothFiles()
    {
        SaveTwoGenerations();

        Assert.Equal(12, ActorWeights.FromBytes(File.ReadAllBytes(DurableFile.PreviousOf(_run.ActorWeightsPath))).Version);
        Assert.Equal(13, ActorWeights.FromBytes(File.ReadAllBytes(_run.ActorWeightsPath)).Version);
        using var restored = Learners.New(Options, seed: 9);
        Assert.Equal(300, Load(restored)!.EnvSteps);
        Assert.Equal(3, restored.UpdateCount);
        Assert.Equal(Parameters(_learner), Parameters(restored));
        Assert.Empty(_warnings);
    }

    [Fact]
    public void Load_WithAFlippedByteInTheNewest_FallsBackToThePreviousAndWarnsNamingTheFile()
    {
        var previous = SaveTwoGenerations();
        var bytes = File.ReadAllBytes(_run.LearnerCheckpointPath);
        bytes[bytes.Length / 2] ^= 0x04;
        File.WriteAllBytes(_run.LearnerCheckpointPath, bytes);
        using var restored = Learners.New(Options, seed: 9);

        var state = Load(restored)!;

        Assert.Equal(DurableFile.PreviousOf(_run.LearnerCheckpointPath), state.Path);
        Assert.Equal((200L, 10L), (state.EnvSteps, state.WeightsVersionOffset));
        Assert.Equal(2, restored.UpdateCount);
        Assert.Equal(previous, Parameters(restored));
        var warning = Assert.Single(_warnings);
        Assert.Contains(_run.LearnerCheckpointPath, warning, StringComparison.Ordinal);
        Assert.Contains("checksum", warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.999)]
    [InlineData(0.0)]
    public void Load_WithATruncatedNewest_FallsBackToThePrevious(double keptFraction)
    {
        var previous = SaveTwoGenerations();
        var bytes = File.ReadAllBytes(_run.LearnerCheckpointPath);
        File.WriteAllBytes(_run.LearnerCheckpointPath, bytes[..(int)(bytes.Length * keptFraction)]);
        using var restored = Learners.New(Options, seed: 9);

        var state = Load(restored)!;

        Assert.Equal(2, restored.UpdateCount);
        Assert.Equal(previous, Parameters(restored));
        Assert.Equal(DurableFile.PreviousOf(_run.LearnerCheckpointPath), state.Path);
        Assert.Contains(_run.LearnerCheckpointPath, Assert.Single(_warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_WithBothGenerationsDamaged_ThrowsAClearErrorNamingBoth()
    {
        SaveTwoGenerations();
        var newest = File.ReadAllBytes(_run.LearnerCheckpointPath);
        File.WriteAllBytes(_run.LearnerCheckpointPath, newest[..100]);
        var previousPath = DurableFile.PreviousOf(_run.LearnerCheckpointPath);
        var previous = File.ReadAllBytes(previousPath);
        previous[0] ^= 0xff;
        File.WriteAllBytes(previousPath, previous);
        using var restored = Learners.New(Options, seed: 9);

        var error = Assert.Throws<InvalidDataException>(() => Load(restored));

        Assert.Contains(_run.LearnerCheckpointPath + ":", error.Message, StringComparison.Ordinal);
        Assert.Contains(previousPath + ":", error.Message, StringComparison.Ordinal);
        Assert.Contains("from scratch", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, restored.UpdateCount);
    }

    [Fact]
    public void Load_WithOnlyADamagedNewestAndNoPrevious_ThrowsInsteadOfStartingFresh()
    {
        LearnerCheckpoint.Save(_run, _learner, "Pendulum-v1", 0);
        var bytes = File.ReadAllBytes(_run.LearnerCheckpointPath);
        bytes[^1] ^= 0x01;
        File.WriteAllBytes(_run.LearnerCheckpointPath, bytes);
        using var restored = Learners.New(Options, seed: 9);

        Assert.Throws<InvalidDataException>(() => Load(restored));
    }

    [Fact]
    public void Load_OfARunWithoutCheckpoints_ReturnsNull()
    {
        Assert.Null(Load(_learner));
        Assert.Empty(_warnings);
    }

    // An intact checkpoint for another network shape is a configuration mistake: the previous generation has the same
    // shape, so falling back would only hide it.
    [Fact]
    public void Load_OfAnIntactCheckpointForOtherSizes_ThrowsWithoutFallingBack()
    {
        SaveTwoGenerations();
        using var narrower = Learners.New(Options with { HiddenSizes = [8, 8] });

        var error = Assert.Throws<InvalidDataException>(() => Load(narrower));

        Assert.Contains("does not fit", error.Message, StringComparison.Ordinal);
        Assert.Empty(_warnings);
    }

    [Fact]
    public void Save_IntoAFolderThatCannotExist_ThrowsIOExceptionAndLeavesNothingBehind()
    {
        Directory.Delete(_run.CheckpointDirectory);
        File.WriteAllText(_run.CheckpointDirectory, "a file where the checkpoint folder should be");

        Assert.ThrowsAny<IOException>(() => LearnerCheckpoint.Save(_run, _learner, "Pendulum-v1", 0));
        Assert.Equal("a file where the checkpoint folder should be", File.ReadAllText(_run.CheckpointDirectory));
    }

    [Fact]
    public void ChecksummedFile_RejectsPaddingAfterThePayload()
    {
        using var stream = new MemoryStream();
        ChecksummedFile.Write(stream, "payload"u8);
        var padded = stream.ToArray().Concat(new byte[] { 0 }).ToArray();

        var error = Assert.Throws<InvalidDataException>(() => ChecksummedFile.Payload(padded));
        Assert.Contains("unexpected bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal("payload"u8.ToArray(), ChecksummedFile.Payload(stream.ToArray()).ToArray());
    }
}
