using System.Text.Json;

namespace DistSac.Deploy.Tests;

/// <summary>`distsac config`, the list the manifests are checked against, run as the real executable.</summary>
public sealed class DistSacConfigTests
{
    [Fact]
    public void Config_lists_arrays_by_index_and_the_probe_addresses_of_every_role()
    {
        Assert.Contains("DISTSAC_REPLAY__SHARDS__<i>", KnownSettings.All);
        Assert.Contains("DISTSAC_SAC__HIDDENSIZES__<i>", KnownSettings.All);
        Assert.True(KnownSettings.IsKnown("DISTSAC_REPLAY__SHARDS__7"));
        Assert.False(KnownSettings.IsKnown("DISTSAC_REPLAY__SHARD__0"));
        foreach (var role in new[] { "GATEWAY", "LEARNER", "WORKER" })
            Assert.Contains($"DISTSAC_{role}__HTTPLISTEN", KnownSettings.All);
    }

    [Fact]
    public void Config_as_json_lists_the_same_settings_with_defaults_and_types()
    {
        var (code, stdout, stderr) = Tool.Run(KnownSettings.Executable(), ["config", "--json"]);
        Assert.True(code == 0, stderr);

        using var json = JsonDocument.Parse(stdout);
        var entries = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(KnownSettings.All, entries.Select(e => e.GetProperty("variable").GetString()));
        var capacity = Assert.Single(entries, e => e.GetProperty("variable").GetString() == "DISTSAC_REPLAY__CAPACITYPERSHARD");
        Assert.Equal("Replay:CapacityPerShard", capacity.GetProperty("key").GetString());
        Assert.Equal("1000000", capacity.GetProperty("default").GetString());
        Assert.Equal("long", capacity.GetProperty("type").GetString());
    }
}
