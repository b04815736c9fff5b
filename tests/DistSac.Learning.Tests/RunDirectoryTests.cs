using DistSac.Learning.Training;

namespace DistSac.Learning.Tests;

public sealed class RunDirectoryTests
{
    [Fact]
    public void Create_MakesTheRunAndCheckpointFoldersUnderTheRoot()
    {
        var root = Path.Combine(Path.GetTempPath(), "distsac-rundir-" + Guid.NewGuid().ToString("N"));
        try
        {
            var run = RunDirectory.Create(root, "pendulum-s1");

            Assert.Equal(Path.Combine(Path.GetFullPath(root), "pendulum-s1"), run.Path);
            Assert.True(Directory.Exists(run.CheckpointDirectory));
            Assert.Equal(Path.Combine(run.CheckpointDirectory, "actor.dsac"), run.ActorWeightsPath);
            run.WriteConfig(new { Seed = 1 });
            Assert.Contains("\"Seed\": 1", File.ReadAllText(run.ConfigPath));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData(".")]
    public void Create_RejectsRunIdsThatAreNotPlainNames(string runId)
    {
        Assert.Throws<ArgumentException>(() => RunDirectory.Create(Path.GetTempPath(), runId));
    }

    [Fact]
    public void NewRunId_IsAPlainNameCarryingEnvironmentAndSeed()
    {
        var id = RunDirectory.NewRunId("Pendulum-v1", 7);

        Assert.StartsWith("pendulum-v1-s7-", id);
        Assert.DoesNotContain('/', id);
    }
}
