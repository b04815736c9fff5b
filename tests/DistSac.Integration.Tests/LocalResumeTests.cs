using System.Globalization;
using System.Text.RegularExpressions;

namespace DistSac.Integration.Tests;

/// <summary>
/// `distsac local --persist`, stopped with SIGTERM, then `distsac local --resume runs/&lt;id&gt;`: the learner continues
/// from its checkpoint, the shards from their AOF, and new workers add to what was stored.
/// </summary>
public sealed partial class LocalResumeTests : IDisposable
{
    private const int SigTerm = 15;
    private readonly string _runs = Directory.CreateTempSubdirectory("distsac-resume-test-").FullName;

    private static readonly string[] SmallRun =
        ["--workers", "1", "--shards", "2", "--steps", "1000000", "--warmup", "200", "--capacity-per-shard", "100000", "--learner-threads", "1"];

    [Fact]
    public async Task AStoppedPersistedRun_Resumes_AtItsCheckpoint_WithItsReplay_AndKeepsUpdating()
    {
        var runPath = Path.Combine(_runs, "resumable");

        // First life: train until the learner has updated, then stop it as Ctrl-C would.
        long stoppedAt, storedBefore;
        await using (var first = DistSacProcess.Start(["local", "--persist", "--runs-root", _runs, "--run-id", "resumable", .. SmallRun]))
        {
            await WaitForLearnerLineAsync(first, l => l.Updates >= 500, TimeSpan.FromSeconds(90));
            first.Signal(SigTerm);
            Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, first.Output);
            var stopped = LearnerStopped().Match(first.Output);
            Assert.True(stopped.Success, first.Output);
            storedBefore = long.Parse(stopped.Groups[1].Value, CultureInfo.InvariantCulture);
            stoppedAt = long.Parse(stopped.Groups[2].Value, CultureInfo.InvariantCulture);
            Assert.True(stoppedAt >= 500 && storedBefore > 0, first.Output);
        }

        // Second life: same shards, same checkpoint, new workers, new secrets.
        await using var resumed = DistSacProcess.Start(["local", "--resume", runPath]);
        Assert.True(await resumed.WaitForOutputAsync($"at update {stoppedAt}", TimeSpan.FromSeconds(60)), resumed.Output);
        Assert.Contains($"Resumed from {Path.Combine(runPath, "checkpoint", "learner.ckpt")} at update {stoppedAt}", resumed.Output, StringComparison.Ordinal);
        // The replay came back from the AOF: the learner sees at least what was stored before the stop, and updates on
        // past its checkpoint (with an empty replay the rate limiter would hold it until ~stoppedAt transitions arrived).
        var line = await WaitForLearnerLineAsync(resumed, l => l.Updates > stoppedAt + 100, TimeSpan.FromSeconds(60));
        Assert.True(line.EnvSteps >= storedBefore && line.Fill >= storedBefore, $"replay {line.EnvSteps} stored / {line.Fill} fill after resume, {storedBefore} before:\n{resumed.Output}");
        Assert.Contains("resuming run resumable", resumed.Output, StringComparison.Ordinal);
        Assert.Matches(@"\[worker-0\].*joined run resumable", resumed.Output);

        resumed.Signal(SigTerm);
        Assert.True(await resumed.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, resumed.Output);
    }

    [Fact]
    public async Task ResumingARunWithoutPersistedShards_IsAClearError_Exit2()
    {
        var runPath = Directory.CreateDirectory(Path.Combine(_runs, "volatile")).FullName;
        File.WriteAllText(Path.Combine(runPath, "local.json"), """{ "Local": { "Workers": 1, "Shards": 1, "Persist": false } }""");

        await using var local = DistSacProcess.Start(["local", "--resume", runPath]);

        Assert.Equal(2, await local.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("started without --persist", local.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResumingAFolderThatIsNoLocalRun_IsAClearError_Exit2()
    {
        var runPath = Directory.CreateDirectory(Path.Combine(_runs, "not-a-run")).FullName;

        await using var local = DistSacProcess.Start(["local", "--resume", runPath]);

        Assert.Equal(2, await local.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("has no local.json", local.Output, StringComparison.Ordinal);
    }

    private sealed record LearnerLine(long Updates, long EnvSteps, long Fill);

    /// <summary>The first learner progress line (as `distsac local` echoes it) that satisfies <paramref name="accept"/>.</summary>
    private static async Task<LearnerLine> WaitForLearnerLineAsync(DistSacProcess local, Func<LearnerLine, bool> accept, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !local.HasExited)
        {
            foreach (Match m in LearnerProgress().Matches(local.Output))
            {
                var line = new LearnerLine(Parse(m.Groups[1]), Parse(m.Groups[2]), Parse(m.Groups[3]));
                if (accept(line)) return line;
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"no learner line as expected within {timeout}:\n{local.Output}");
    }

    private static long Parse(Group g) => long.Parse(g.Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\[learner\] updates\s+(\d+) \| env steps\s+(\d+) \|.*?\| fill (\d+) \|")]
    private static partial Regex LearnerProgress();

    [GeneratedRegex(@"\[learner\] stopped: (\d+) env steps, (\d+) updates")]
    private static partial Regex LearnerStopped();

    public void Dispose()
    {
        try { Directory.Delete(_runs, recursive: true); } catch (IOException) { }
    }
}
