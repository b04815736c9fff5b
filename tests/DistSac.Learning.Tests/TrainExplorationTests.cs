using System.ComponentModel.DataAnnotations;
using DistSac.Learning.Training;

namespace DistSac.Learning.Tests;

public class TrainExplorationTests
{
    [Fact]
    public void UnknownExplorationNoise_FailsValidationNamingTheKey()
    {
        var error = Assert.Throws<ValidationException>(() => new TrainOptions { ExplorationNoise = "pink" }.Validate());

        Assert.Contains("Train:ExplorationNoise is 'pink'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Trainer_RunsPastWarmupWithOrnsteinUhlenbeckNoise()
    {
        string root = Path.Combine(Path.GetTempPath(), $"distsac-ou-{Guid.NewGuid():N}");
        try
        {
            var train = new TrainOptions
            {
                Env = "MountainCarContinuous-v0", Steps = 150, LearningStarts = 100, EvalInterval = 150, EvalEpisodes = 1,
                RunsRoot = root, RunId = "ou", Device = "cpu", Threads = 1, ExplorationNoise = "ou", NoiseCorrelationSteps = 15,
            };
            var sac = new SacOptions { BatchSize = 16, HiddenSizes = [8] };

            TrainResult result = new SingleProcessTrainer(train, sac).Run(CancellationToken.None);

            Assert.Equal(150, result.Steps);
            Assert.Equal(51, result.Updates);   // updates from step 100 on (step + 1 >= LearningStarts)
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}
