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

    [Theory]
    [InlineData("env", "RateLimit", "Learner:UpdatesPerTransition")]
    [InlineData("flag", "RateLimitTolerance", "Learner:RateLimitTolerance")]
    [InlineData("env", "RateLimitMinTransitions", "Learner:WarmupTransitions")]
    public async Task AnOldGatewayRateLimitSetting_IsRefused_Exit2_NamingTheLearnerSetting(string how, string key, string learnerSetting)
    {
        string endpoint = $"127.0.0.1:{FreePort.Next()}"; // never reached: the setting is refused first
        var flag = key switch { "RateLimit" => "--rate-limit", "RateLimitTolerance" => "--rate-limit-tolerance", _ => "--rate-limit-min-transitions" };
        await using var process = how == "flag"
            ? DistSacProcess.Start(["replay", "--shards", endpoint, flag, "1"])
            : DistSacProcess.Start(["replay", "--shards", endpoint], new Dictionary<string, string> { [$"DISTSAC_GATEWAY__{key.ToUpperInvariant()}"] = "1" });

        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        Assert.Contains($"error: Gateway:{key} = 1 is no longer a gateway setting", process.Output, StringComparison.Ordinal);
        Assert.Contains(learnerSetting, process.Output, StringComparison.Ordinal);
    }
}
