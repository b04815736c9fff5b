using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using DistSac.Envs;
using DistSac.Gateway;
using DistSac.Protocol;
using DistSac.Replay;
using DistSac.Testing;
using DistSac.Worker;

namespace DistSac.Aot.Tests;

/// <summary>
/// The Native AOT distsac-worker, published as the worker image publishes it, runs a rollout against a real gateway
/// and Redis: it follows the published actor, its pushes are stored, and it exits 0. Its publish holds no .NET runtime.
/// </summary>
[Trait("Category", "Aot")]
public class AotWorkerTests
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task AotWorker_RunsARollout_AndItsPushesAreStored()
    {
        string worker = await AotWorker.PathAsync();
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(worker)!, "libcoreclr.so")), "the AOT publish must not carry the .NET runtime");
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(worker)!, "*.dll"));

        await using var redis = await RedisServer.StartAsync();
        var spec = EnvironmentRegistry.GetSpec("Pendulum-v1");
        var replayOptions = new ReplayOptions { RunId = "aot-" + Guid.NewGuid().ToString("N")[..12], Shards = [redis.Endpoint], CapacityPerShard = 10_000, Password = redis.Password };
        await using var learner = await ShardedReplay.ConnectAsync(replayOptions, logger: null, CancellationToken.None);
        await learner.InitializeRunAsync(new ReplayMetadata(replayOptions.RunId, spec.Id, spec.ObservationSize, spec.ActionSize,
            ProtocolLimits.RecordBytes(spec.ObservationSize, spec.ActionSize), Seed: 3, WarmupTransitions: 0, replayOptions.CapacityPerShard, ShardCount: 1,
            ReplayLimits.SchemaVersion), CancellationToken.None);
        // The actor the worker must follow over the weights stream (warm-up 0: it acts with it from the first step it has it).
        var actor = RandomActor.Create(spec, [64, 64], seed: 1, version: 7);
        await learner.PublishWeightsAsync(actor.Version, actor.ToBytes(), CancellationToken.None);
        await using var gateway = await GatewayHost.StartAsync(new GatewayOptions { Listen = "http://127.0.0.1:0", StatusLogIntervalMs = 0 },
            replayOptions, loggerFactory: null, CancellationToken.None);

        const int steps = 600;
        var (exitCode, output) = await RunAsync(worker,
            ["--gateway", gateway.Address.ToString(), "--worker-id", "aot-worker-1", "--envs", "2", "--batch-transitions", "40", "--max-steps", $"{steps}"],
            new Dictionary<string, string> { ["DISTSAC_WORKER__PROGRESSINTERVALSECONDS"] = "0.5" });

        Assert.True(exitCode == 0, $"distsac-worker exited {exitCode}:\n{output}");
        Assert.Contains("Received actor weights version 7", output, StringComparison.Ordinal);
        Assert.Contains($"{steps} transitions acknowledged", output, StringComparison.Ordinal);
        var perWorker = await learner.ReadWorkerTransitionsAsync(CancellationToken.None);
        Assert.Equal(steps, perWorker["aot-worker-1"]);
        Assert.Equal(steps, (await learner.ReadStatsAsync(CancellationToken.None)).TotalInserted);
        // Published for x86-64-v3: on a CPU with AVX2 and FMA the actor runs a 256-bit kernel, not the 128-bit one
        // that the AOT compiler's default instruction set (x86-64-v2) left it with.
        if (Avx2.IsSupported && Fma.IsSupported)
            Assert.Contains("actor kernel Vector256", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AotWorker_RejectsABadSetting_WithExitCode2_NamingTheKey()
    {
        string worker = await AotWorker.PathAsync();

        var (exitCode, output) = await RunAsync(worker, ["--envs", "0"], new Dictionary<string, string>());

        Assert.Equal(2, exitCode);
        Assert.Contains("Worker:Envs", output, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string path, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment) start.Environment[k] = v;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(RunLimit);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return (-1, $"killed after {RunLimit.TotalSeconds} s\n{await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
