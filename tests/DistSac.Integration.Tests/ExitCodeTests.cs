using DistSac.Testing;

namespace DistSac.Integration.Tests;

/// <summary>One exit-code table for every role (README): 0 done or stopped, 2 bad configuration or input, 1 runtime failure.</summary>
public sealed class ExitCodeTests
{
    [Theory]
    [InlineData("replay")]
    [InlineData("learner")]
    public async Task AnUnreachableRedis_IsARuntimeFailure_Exit1_NamingTheEndpoint(string role)
    {
        string endpoint = $"127.0.0.1:{FreePort.Next()}"; // nothing listens there
        string[] args = role == "learner"
            ? ["learner", "--shards", endpoint, "--runs-root", Path.Combine(Path.GetTempPath(), "distsac-exit-" + Guid.NewGuid().ToString("N")[..8])]
            : ["replay", "--shards", endpoint];
        await using var process = DistSacProcess.Start(args);

        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, exit);
        Assert.Contains(endpoint, process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", process.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("replay")]
    [InlineData("learner")]
    public async Task AnEmptyEntryInTheShardList_IsBadConfiguration_Exit2(string role)
    {
        await using var process = DistSacProcess.Start([role, "--shards", "127.0.0.1:1,,127.0.0.1:2"]);

        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        Assert.Contains("empty entry at position 2", process.Output, StringComparison.Ordinal);
    }
}
