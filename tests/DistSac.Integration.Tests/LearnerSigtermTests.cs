using DistSac.Testing;

namespace DistSac.Integration.Tests;

/// <summary>
/// `distsac learner` stopped by SIGTERM (every Kubernetes rollout, eviction and spot preemption) writes its checkpoint
/// and exits 0 whatever it was waiting on, well within the 60 s terminationGracePeriodSeconds of deploy/k8s; a
/// learner started again on the same run resumes from that checkpoint.
/// </summary>
public sealed class LearnerSigtermTests : IDisposable
{
    private const int SigTerm = 15;
    private static readonly TimeSpan StopBudget = TimeSpan.FromSeconds(30);
    private readonly string _runs = Directory.CreateTempSubdirectory("distsac-learner-sigterm-").FullName;

    private DistSacProcess StartLearner(RedisServer redis, string runId) => DistSacProcess.Start(
    [
        "learner", "--shards", redis.Endpoint, "--run-id", runId, "--runs-root", _runs, "--device", "cpu", "--threads", "1",
        "--hidden", "16,16", "--warmup", "1000",
    ]);

    private string CheckpointOf(string runId) => Path.Combine(_runs, runId, "checkpoint", "learner.ckpt");

    [Fact]
    public async Task Sigterm_while_waiting_for_data_writes_a_checkpoint_and_exits_0_and_the_next_start_resumes_from_it()
    {
        await using var redis = await RedisServer.StartAsync();
        await using (var learner = StartLearner(redis, "waiting"))
        {
            Assert.True(await learner.WaitForOutputAsync("Learner ready", TimeSpan.FromSeconds(60)), learner.Output);
            await Task.Delay(500); // inside the rate limiter's warm-up wait: no worker, nothing stored

            learner.Signal(SigTerm);
            var exit = await learner.WaitForExitAsync(StopBudget);

            Assert.True(exit == 0, $"exit {exit}:\n{learner.Output}");
            Assert.True(File.Exists(CheckpointOf("waiting")), learner.Output);
        }

        await using var again = StartLearner(redis, "waiting");
        Assert.True(await again.WaitForOutputAsync("Learner ready", TimeSpan.FromSeconds(60)), again.Output);
        Assert.Contains($"Resumed from {CheckpointOf("waiting")} at update 0", again.Output, StringComparison.Ordinal);
        again.Signal(SigTerm);
        Assert.Equal(0, await again.WaitForExitAsync(StopBudget));
    }

    [Fact]
    public async Task Sigterm_while_waiting_for_an_unreachable_shard_writes_a_checkpoint_and_exits_0()
    {
        var redis = await RedisServer.StartAsync();
        await using var learner = StartLearner(redis, "outage");
        try
        {
            Assert.True(await learner.WaitForOutputAsync("Learner ready", TimeSpan.FromSeconds(60)), learner.Output);
            await redis.KillAsync();
            Assert.True(await learner.WaitForOutputAsync("Learner:ReplayOutageTimeoutSeconds", TimeSpan.FromSeconds(30)), learner.Output);
        }
        finally
        {
            await redis.DisposeAsync();
        }

        learner.Signal(SigTerm);
        var exit = await learner.WaitForExitAsync(StopBudget);

        Assert.True(exit == 0, $"exit {exit}:\n{learner.Output}");
        Assert.True(File.Exists(CheckpointOf("outage")), learner.Output);
    }

    public void Dispose()
    {
        try { Directory.Delete(_runs, recursive: true); } catch (IOException) { }
    }
}
