namespace DistSac.Integration.Tests;

/// <summary>Long commands tell a person how far they are: done/total, percent and an ETA on every progress line.</summary>
public sealed class ProgressOutputTests
{
    [Fact]
    public async Task Train_PrintsStepsOfTotal_Percent_AndAnEta()
    {
        var runs = Directory.CreateTempSubdirectory("distsac-progress-");
        try
        {
            await using var train = DistSacProcess.Start(["train", "--env", "Pendulum-v1", "--steps", "600", "--log-interval", "200",
                "--eval-interval", "600", "--eval-episodes", "1", "--threads", "1", "--runs-root", runs.FullName]);

            var exit = await train.WaitForExitAsync(TimeSpan.FromMinutes(5));

            Assert.True(exit == 0, train.Output);
            // Redirected output: one plain line per interval (no carriage returns), each with its share of the total.
            Assert.Contains("step 200/600 (33%, ETA ", train.Output, StringComparison.Ordinal);
            Assert.Contains("step 400/600 (67%, ETA ", train.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("\r", train.Output, StringComparison.Ordinal);
        }
        finally
        {
            runs.Delete(recursive: true);
        }
    }
}
