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

    /// <summary>Every role validates its options the same way (SettingsValidation) before it starts anything.</summary>
    [Theory]
    [InlineData("replay", "--max-hold-ms", "-1", "Gateway:MaxHoldMs = -1 is invalid: ")]
    [InlineData("replay", "--capacity-per-shard", "0", "Replay:CapacityPerShard = 0 is invalid: ")]
    [InlineData("learner", "--prefetch-depth", "0", "Learner:PrefetchDepth = 0 is invalid: ")]
    [InlineData("learner", "--batch-size", "0", "Sac:BatchSize = 0 is invalid: ")]
    [InlineData("worker", "--envs", "0", "Worker:Envs = 0 is invalid: ")]
    [InlineData("local", "--workers", "0", "Local:Workers = 0 is invalid: ")]
    [InlineData("local", "--child-nice", "20", "Local:ChildNice = 20 is invalid: ")]
    [InlineData("train", "--device", "tpu", "Train:Device = 'tpu' is invalid: ")]
    public async Task ABadValue_IsBadConfiguration_Exit2_NamingTheKeyAndValue(string role, string flag, string value, string expected)
    {
        var runs = Path.Combine(Path.GetTempPath(), "distsac-exit-" + Guid.NewGuid().ToString("N")[..8]);
        string endpoint = $"127.0.0.1:{FreePort.Next()}"; // never reached: the value is refused first
        string[] args = role switch
        {
            "replay" => [role, "--shards", endpoint, flag, value],
            "learner" => [role, "--shards", endpoint, "--runs-root", runs, flag, value],
            "worker" => [role, "--gateway", $"http://{endpoint}", flag, value],
            _ => [role, "--runs-root", runs, flag, value],
        };
        await using var process = DistSacProcess.Start(args);

        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        Assert.Contains("error: " + expected, process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", process.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(runs), "a refused configuration must not create a run directory");
    }

    [Theory]
    [InlineData("Bogus")]
    [InlineData("7")]
    public async Task AnUnknownRedisReplyThreadsValue_IsBadConfiguration_Exit2_NamingTheKey(string value)
    {
        string endpoint = $"127.0.0.1:{FreePort.Next()}"; // never reached: the value is refused first
        await using var process = DistSacProcess.Start(["replay", "--shards", endpoint],
            new Dictionary<string, string> { ["DISTSAC_GATEWAY__REDISREPLYTHREADS"] = value });

        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        Assert.Contains("RedisReplyThreads", process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(endpoint + " is unreachable", process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", process.Output, StringComparison.Ordinal);
    }
}
