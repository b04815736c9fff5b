namespace DistSac.Integration.Tests;

/// <summary>`distsac replay` as an operator starts it: unsafe set-ups fail at once, naming the fix.</summary>
public sealed class ReplayCommandSecurityTests
{
    [Fact]
    public async Task ListeningOnEveryInterface_WithoutAToken_ExitsWithCode2AndNamesTheSettings()
    {
        await using var replay = DistSacProcess.Start(["replay", "--listen", "http://0.0.0.0:0", "--shards", "127.0.0.1:1"],
            new Dictionary<string, string> { ["DISTSAC_GATEWAY__TOKEN"] = "", ["DISTSAC_GATEWAY__TOKENFILE"] = "" });

        var exit = await replay.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, exit);
        Assert.Contains("Gateway:TokenFile", replay.Output, StringComparison.Ordinal);
        Assert.Contains("DISTSAC_GATEWAY__TOKEN", replay.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARedisPasswordOnTheCommandLine_IsRefusedNamingTheFileFlag()
    {
        await using var replay = DistSacProcess.Start(["replay", "--redis-password", "hunter2-on-argv", "--shards", "127.0.0.1:1"]);

        var exit = await replay.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.NotEqual(0, exit);
        Assert.Contains("--redis-password-file", replay.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-on-argv", replay.Output, StringComparison.Ordinal);
    }
}
