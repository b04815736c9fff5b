using DistSac.Learning;
using DistSac.Replay;
using DistSac.Testing;

namespace DistSac.Learner.Tests;

/// <summary>
/// The learner is the one owner of the rate-limit contract: it writes its ratio, tolerance and threshold into the run
/// metadata, which gateways read, and a restart with other settings rewrites them (GatewayRateLimitTests shows a running
/// gateway following such a rewrite).
/// </summary>
public sealed class LearnerRateLimitContractTests
{
    [Fact]
    public async Task The_learner_writes_its_contract_into_the_run_metadata_and_a_restart_with_another_ratio_replaces_it()
    {
        await using var shard = await RedisServer.StartAsync();
        var runsRoot = Directory.CreateTempSubdirectory("distsac-learner-contract-");
        try
        {
            var replay = new ReplayOptions { RunId = "contract-" + Guid.NewGuid().ToString("N")[..12], Shards = [shard.Endpoint], CapacityPerShard = 10_000 };
            await using var reader = await ShardedReplay.ConnectAsync(replay, logger: null, CancellationToken.None);
            var first = LearnerHarness.EndlessLearner(runsRoot.FullName) with { UpdatesPerTransition = 0.5, RateLimitTolerance = 3, WarmupTransitions = 10 };

            await RunUntilReadyAsync(first, new SacOptions { BatchSize = 32 }, replay);
            var written = (await reader.ReadMetadataAsync(CancellationToken.None))!.RateLimit;
            // The threshold is max(warm-up 10, batch 32): the learner cannot sample a batch from fewer transitions.
            Assert.Equal(new RateLimitContract(UpdatesPerTransition: 0.5, Tolerance: 3, MinTransitions: 32), written);

            await RunUntilReadyAsync(first with { UpdatesPerTransition = 2, RateLimitTolerance = 5 }, new SacOptions { BatchSize = 64 }, replay);
            var rewritten = (await reader.ReadMetadataAsync(CancellationToken.None))!;

            Assert.Equal(new RateLimitContract(UpdatesPerTransition: 2, Tolerance: 5, MinTransitions: 64), rewritten.RateLimit);
            Assert.Equal(rewritten.RateLimit, await reader.ReadRateLimitAsync(CancellationToken.None));
        }
        finally
        {
            runsRoot.Delete(recursive: true);
        }
    }

    private static async Task RunUntilReadyAsync(LearnerOptions options, SacOptions sac, ReplayOptions replay)
    {
        var learner = new DistributedLearner(options, sac, replay);
        using var stop = new CancellationTokenSource();
        var running = learner.RunAsync(stop.Token);
        await LearnerHarness.WaitForAsync(running, () => Task.FromResult(learner.Exporter.Ready), "the learner to publish its first weights");
        await stop.CancelAsync();
        try
        {
            await running;
        }
        catch (OperationCanceledException)
        {
        }
    }
}
