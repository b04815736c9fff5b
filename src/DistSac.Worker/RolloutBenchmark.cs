using System.Diagnostics;
using DistSac.Envs;
using DistSac.Policy;

namespace DistSac.Worker;

/// <summary>
/// `distsac bench worker`: environment steps per second of one worker's rollout loop on the calling thread, with
/// everything but the network: stochastic actions from a 256x256 actor, exploration noise, environment steps and
/// record packing into push batches, which a discarding sink takes at once.
/// </summary>
public static class RolloutBenchmark
{
    public static readonly int[] DefaultHidden = [256, 256];

    public static async Task<RolloutBenchmarkResult> RunAsync(
        string envId, int envs, TimeSpan duration, TimeSpan warmUp, int batchTransitions = 64, IReadOnlyList<int>? hidden = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(envs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        hidden ??= DefaultHidden;
        EnvSpec spec = EnvironmentRegistry.GetSpec(envId);
        var policy = new PolicySlot(warmupTransitions: 0);
        policy.Publish(new ActorNetwork(RandomActor.Create(spec, hidden, seed: 1, version: 1), envs));
        var loop = new RolloutLoop(new VectorEnvironment(envId, envs, seed: 0), policy, WorkerSeeds.For(0, "bench"));
        var sink = new DiscardingTransitionSink();
        using var batch = new TransitionBatch(loop.Layout.RecordBytes, RolloutDriver.BatchCapacity(batchTransitions, envs));
        var driver = new RolloutDriver(loop, sink, batchTransitions, TimeSpan.FromMilliseconds(50));

        // Warm-up lets tiered JIT (and on-stack replacement of the loop) reach optimised code before timing.
        if (warmUp > TimeSpan.Zero)
        {
            using var warm = new CancellationTokenSource(warmUp);
            await driver.RunAsync(batch, 0, warm.Token, CancellationToken.None);
        }

        long steps0 = loop.Steps;
        long allocated0 = GC.GetTotalAllocatedBytes(precise: true);
        int collections0 = GC.CollectionCount(0);
        using var timed = new CancellationTokenSource(duration);
        var clock = Stopwatch.StartNew();
        await driver.RunAsync(batch, 0, timed.Token, CancellationToken.None);
        clock.Stop();
        long steps = loop.Steps - steps0;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated0;

        return new RolloutBenchmarkResult(
            StepsPerSecond: steps / clock.Elapsed.TotalSeconds,
            Envs: envs,
            Steps: steps,
            Seconds: clock.Elapsed.TotalSeconds,
            Hidden: string.Join('x', hidden),
            BatchTransitions: batchTransitions,
            Batches: sink.Batches,
            AllocatedBytesPerStep: steps > 0 ? (double)allocated / steps : double.NaN,
            Gen0Collections: GC.CollectionCount(0) - collections0,
            ActingVersion: loop.LastPolicyVersion);
    }
}

public sealed record RolloutBenchmarkResult(
    double StepsPerSecond,
    int Envs,
    long Steps,
    double Seconds,
    string Hidden,
    int BatchTransitions,
    long Batches,
    double AllocatedBytesPerStep,
    int Gen0Collections,
    long ActingVersion);
