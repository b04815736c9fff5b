namespace DistSac.Integration.Tests;

/// <summary>`distsac local` leaves nothing behind: no redis-server, gateway, learner or worker survives it.</summary>
public sealed class LocalClusterTests : IDisposable
{
    private const int SigTerm = 15, SigKill = 9;
    private readonly string _runs = Directory.CreateTempSubdirectory("distsac-local-test-").FullName;

    private DistSacProcess StartLocal(string runId) => DistSacProcess.Start(
        ["local", "--workers", "2", "--shards", "2", "--steps", "1000000", "--warmup", "200", "--runs-root", _runs, "--run-id", runId, "--learner-threads", "1"]);

    [Fact]
    public async Task Sigterm_StopsEveryChild_WritesTheCheckpoint_AndExits0()
    {
        await using var local = StartLocal("sigterm");
        var children = await local.WaitForChildrenAsync(6); // 2 shards, gateway, learner, 2 workers
        // Once the learner is ready it has something to save; a stop during its start-up saves nothing, by design.
        Assert.True(await local.WaitForOutputAsync("Learner ready", TimeSpan.FromSeconds(120)), local.Output);

        local.Signal(SigTerm);
        var exit = await local.WaitForExitAsync(TimeSpan.FromSeconds(90));

        // A stop is a normal end: every role exits 0 on SIGTERM and the learner leaves its checkpoint.
        Assert.True(exit == 0, $"exit {exit}:\n{local.Output}");
        Assert.DoesNotContain("error:", local.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_runs, "sigterm", "checkpoint", "learner.ckpt")), local.Output);
        foreach (var pid in children) Assert.False(DistSacProcess.IsAlive(pid), $"child {pid} survived:\n{local.Output}");
    }

    [Fact]
    public async Task Sigkill_OfTheOrchestrator_StillTakesEveryChildDown()
    {
        await using var local = StartLocal("sigkill");
        var children = await local.WaitForChildrenAsync(6);

        local.Signal(SigKill);
        await local.WaitForExitAsync(TimeSpan.FromSeconds(10));

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline && children.Any(DistSacProcess.IsAlive)) await Task.Delay(100);
        foreach (var pid in children) Assert.False(DistSacProcess.IsAlive(pid), $"child {pid} survived SIGKILL of its parent");
    }

    [Fact]
    public async Task ADeadWorker_StopsEverything_AndTheExitNamesIt()
    {
        await using var local = StartLocal("deadworker");
        var children = await local.WaitForChildrenAsync(6);
        Assert.True(await local.WaitForOutputAsync("[worker-1]", TimeSpan.FromSeconds(60)), local.Output);
        var worker = children.First(pid => File.ReadAllText($"/proc/{pid}/cmdline").Contains("worker", StringComparison.Ordinal)
                                          && File.ReadAllText($"/proc/{pid}/environ").Contains("DISTSAC_WORKER__WORKERID=worker-1", StringComparison.Ordinal));

        _ = Kill(worker, SigKill);
        var exit = await local.WaitForExitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(1, exit);
        Assert.Contains("worker-1", local.Output.Split('\n').First(l => l.Contains("exited unexpectedly", StringComparison.Ordinal)), StringComparison.Ordinal);
        foreach (var pid in children) Assert.False(DistSacProcess.IsAlive(pid), $"child {pid} survived");
    }

    [Fact]
    public async Task ANormalEnd_StopsTheWorkersWithoutWaitingForAcknowledgements()
    {
        // 600 steps after a 200-transition warm-up: a short run that ends by itself. The learner marks the run finished,
        // so the gateway stops holding the workers' last pushes and their shutdown flush is acknowledged at once.
        await using var local = DistSacProcess.Start(["local", "--workers", "2", "--shards", "1", "--steps", "600", "--warmup", "200",
            "--eval-interval", "1000000", "--runs-root", _runs, "--run-id", "normalend", "--learner-threads", "1"]);

        var exit = await local.WaitForExitAsync(TimeSpan.FromSeconds(300));

        Assert.True(exit == 0, $"exit {exit}:\n{local.Output}");
        Assert.DoesNotContain("Gave up delivering", local.Output, StringComparison.Ordinal);
        foreach (var worker in new[] { "worker-0", "worker-1" })
        {
            var log = File.ReadAllText(Path.Combine(_runs, "normalend", "logs", worker + ".log"));
            Assert.DoesNotContain("Gave up delivering", log, StringComparison.Ordinal);
            Assert.Contains($"Worker {worker} stopped", log, StringComparison.Ordinal);
            // Started once the gateway listens: no connection is refused on the first contact (its back-off cost ~0.7 s
            // of every start). A FailedPrecondition answer (the learner has not created the run yet) is still expected.
            Assert.DoesNotContain("not reachable (Unavailable", log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task WorkersAndTheGateway_RunAtTheChildNiceIncrement_TheLearnerAndRedisAtTheOrchestratorsPriority()
    {
        await using var local = DistSacProcess.Start(["local", "--workers", "1", "--shards", "1", "--steps", "1000000", "--warmup", "200",
            "--runs-root", _runs, "--run-id", "nice", "--learner-threads", "1", "--child-nice", "7"]);
        var children = await local.WaitForChildrenAsync(4); // shard, gateway, learner, worker
        // Their first lines come from the roles themselves, so setpriv and nice have exec'd by then.
        foreach (var role in new[] { "[gateway]", "[learner]", "[worker-0]" })
            Assert.True(await local.WaitForOutputAsync(role, TimeSpan.FromSeconds(120)), local.Output);

        int own = Nice(local.Pid);
        var nice = children.ToDictionary(Role, Nice);
        local.Signal(SigKill);
        await local.WaitForExitAsync(TimeSpan.FromSeconds(10));

        int lowered = Math.Min(19, own + 7);
        Assert.Equal(lowered, nice["worker"]);
        Assert.Equal(lowered, nice["replay"]);
        Assert.Equal(own, nice["learner"]);
        Assert.Equal(own, nice["redis-server"]);
    }

    /// <summary>Field 19 of /proc/PID/stat: the nice value of the process's main thread.</summary>
    private static int Nice(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string Role(int pid)
    {
        var cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
        foreach (var role in new[] { "redis-server", "worker", "replay", "learner" })
            if (cmdline.Contains(role, StringComparison.Ordinal)) return role;
        throw new InvalidOperationException($"child {pid} is no role of `local`: {cmdline.Replace('\0', ' ')}");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    public void Dispose()
    {
        try { Directory.Delete(_runs, recursive: true); } catch (IOException) { }
    }
}
