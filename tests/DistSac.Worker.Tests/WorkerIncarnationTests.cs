using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistSac.Worker.Tests;

/// <summary>The worker pushes under the incarnation its GetRunInfo issued, and a duplicate answer to a first try is loud.</summary>
public class WorkerIncarnationTests
{
    [Fact]
    public async Task EveryPush_CarriesTheIncarnationOfThisStart()
    {
        var gateway = new TestGateway { RunMissingFor = 2 }; // the third GetRunInfo succeeds and issues incarnation 3
        await using var server = await GatewayServer.StartNewAsync(gateway);

        var result = await new RolloutWorker(WorkerGatewayTests.Options(server, envs: 2, batch: 8, maxSteps: 64), NullLoggerFactory.Instance)
            .RunAsync(CancellationToken.None);

        Assert.Equal(3, result.Incarnation);
        Assert.NotEmpty(gateway.Attempts);
        Assert.All(gateway.Attempts, a => Assert.Equal(3, a.Incarnation));
    }

    [Fact]
    public async Task ADuplicateAnswerToAFirstTry_IsLoggedAsAnErrorAndCounted()
    {
        var gateway = new TestGateway { AnswerDuplicates = 1 };
        await using var server = await GatewayServer.StartNewAsync(gateway);
        var logs = new CapturedLogs();
        using var factory = logs.CreateFactory();
        var worker = new RolloutWorker(WorkerGatewayTests.Options(server, envs: 2, batch: 8, maxSteps: 64), factory);

        var result = await worker.RunAsync(CancellationToken.None);

        Assert.Equal(1, result.UnexpectedDuplicates);
        var error = Assert.Single(logs.Lines, l => l.Level == LogLevel.Error);
        Assert.Contains("answered duplicate for batch 0 of worker 'test-worker' incarnation 1 on its first try", error.Message);
        var metrics = new MemoryStream();
        await worker.Metrics.Registry.CollectAndExportAsTextAsync(metrics);
        Assert.Contains("distsac_push_unexpected_duplicates_total 1", System.Text.Encoding.UTF8.GetString(metrics.ToArray()));
    }

    [Fact]
    public async Task ADuplicateAnswerAfterALostAcknowledgement_IsExpectedAndNotAnError()
    {
        var gateway = new TestGateway { LoseAcknowledgements = 1 };
        await using var server = await GatewayServer.StartNewAsync(gateway);
        var logs = new CapturedLogs();
        using var factory = logs.CreateFactory();

        var result = await new RolloutWorker(WorkerGatewayTests.Options(server, envs: 2, batch: 8, maxSteps: 64), factory).RunAsync(CancellationToken.None);

        Assert.Equal(1, result.Duplicates);
        Assert.Equal(0, result.UnexpectedDuplicates);
        Assert.DoesNotContain(logs.Lines, l => l.Level >= LogLevel.Error);
        Assert.Equal(64, gateway.StoredTransitions);
    }
}
