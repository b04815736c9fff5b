using DistSac.Testing;

namespace DistSac.Integration.Tests;

/// <summary>`distsac status` against a real `distsac local` run: every role found from the run's endpoints.json.</summary>
public sealed class StatusCommandTests : IDisposable
{
    private const int SigTerm = 15;
    private readonly string _runs = Directory.CreateTempSubdirectory("distsac-status-test-").FullName;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    [Fact]
    public async Task Status_OfALocalRun_ShowsEveryRoleHealthyWithItsRates_AndEachWorkerRow()
    {
        await using var local = DistSacProcess.Start(
            ["local", "--workers", "2", "--shards", "2", "--steps", "1000000", "--warmup", "200", "--runs-root", _runs, "--run-id", "st", "--learner-threads", "1"]);
        Assert.True(await local.WaitForOutputAsync("Learner ready", TimeSpan.FromSeconds(120)), local.Output);
        // The workers' first acknowledged pushes: their probes then report steps and versions.
        Assert.True(await local.WaitForOutputAsync("[learner] updates", TimeSpan.FromSeconds(120)), local.Output);

        await using var status = DistSacProcess.Start(["status", "--run", Path.Combine(_runs, "st"), "--once"]);
        var exit = await status.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var screen = status.Output;

        Assert.True(exit == 0, $"exit {exit}:\n{screen}");
        Assert.Matches(@"gateway\s+healthy, ready\s+\d+m\d\ds\s+pushes [1-9]", screen);
        Assert.Matches(@"learner\s+healthy, ready\s+\d+m\d\ds\s+[\d,]+ updates/s \| [\d,]+ env steps/s", screen);
        Assert.Matches(@"replay fill\s+shard 0: [\d,]+\s+shard 1: [\d,]+", screen);
        Assert.Contains("staleness    mean", screen, StringComparison.Ordinal);
        Assert.Contains("rate limiter learner", screen, StringComparison.Ordinal);
        Assert.Contains("last eval", screen, StringComparison.Ordinal);
        Assert.Matches(@"worker-0\s+healthy, ready\s+\d+m\d\ds\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+[\d,]+\s", screen);
        Assert.Matches(@"worker-1\s+healthy, ready", screen);

        local.Signal(SigTerm);
        Assert.Equal(0, await local.WaitForExitAsync(TimeSpan.FromSeconds(90)));
    }

    [Fact]
    public async Task Status_OfAGatewayThatDoesNotAnswer_SaysDown_AndExits1()
    {
        await using var status = DistSacProcess.Start(["status", "--gateway", $"http://127.0.0.1:{FreePort.Next()}", "--once"]);

        var exit = await status.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, exit);
        Assert.Matches(@"gateway\s+down: ", status.Output);
    }

    [Fact]
    public async Task Status_OfARunWithoutEndpoints_IsAnErrorNamingTheFix()
    {
        await using var status = DistSacProcess.Start(["status", "--run", _runs, "--once"]);

        var exit = await status.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, exit);
        Assert.Contains("endpoints.json", status.Output, StringComparison.Ordinal);
    }
}
