using System.Text.Json;
using DistSac.Observability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistSac.Worker.Tests;

/// <summary>One console format for every role: UTC time, level, role; JSON lines on request.</summary>
public sealed class RoleLoggingTests
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 2, 12, 0, 1, 250, TimeSpan.FromHours(5)); // 07:00:01.250 UTC

    private static string Format(LogFormat format, LogLevel level, string category, string message, Exception? error = null)
    {
        var formatter = new RoleConsoleFormatter("gateway", format, new FixedTime(Noon));
        using var writer = new StringWriter();
        formatter.Write(new LogEntry<string>(level, category, new EventId(7), message, error, (s, _) => s), null, writer);
        return writer.ToString();
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now.ToUniversalTime();
    }

    [Fact]
    public void Text_IsOneLineWithUtcTimeLevelRoleAndTheCategorysLastSegment()
    {
        var line = Format(LogFormat.Text, LogLevel.Warning, "DistSac.Replay.ShardedReplay", "shard 1 is down");
        Assert.Equal("07:00:01.250Z warn gateway/ShardedReplay: shard 1 is down" + Environment.NewLine, line);
    }

    [Fact]
    public void Text_OmitsTheCategoryWhenItIsTheRoleItself()
    {
        Assert.StartsWith("07:00:01.250Z info gateway: ready", Format(LogFormat.Text, LogLevel.Information, "gateway", "ready"));
    }

    [Fact]
    public void Json_IsOneParsableObjectPerLineWithTheSameFields()
    {
        var line = Format(LogFormat.Json, LogLevel.Error, "DistSac.Gateway.PushHandler", "bad \"push\"\nsecond line", new InvalidOperationException("boom"));
        Assert.Single(line.TrimEnd().Split('\n'));
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        Assert.Equal("2026-12-02T07:00:01.250Z", root.GetProperty("time").GetString());
        Assert.Equal("Error", root.GetProperty("level").GetString());
        Assert.Equal("gateway", root.GetProperty("role").GetString());
        Assert.Equal("DistSac.Gateway.PushHandler", root.GetProperty("category").GetString());
        Assert.Equal(7, root.GetProperty("event").GetInt32());
        Assert.Equal("bad \"push\"\nsecond line", root.GetProperty("message").GetString());
        Assert.Contains("boom", root.GetProperty("exception").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, LogFormat.Text)]
    [InlineData("", LogFormat.Text)]
    [InlineData("TEXT", LogFormat.Text)]
    [InlineData(" json ", LogFormat.Json)]
    public void ParseFormat_AcceptsTextAndJson(string? value, LogFormat expected) => Assert.Equal(expected, RoleLogging.ParseFormat(value));

    [Fact]
    public void ParseFormat_RejectsAnythingElseNamingTheVariable()
    {
        var e = Assert.Throws<ArgumentException>(() => RoleLogging.ParseFormat("yaml"));
        Assert.Contains("DISTSAC_LOG_FORMAT = 'yaml' is invalid", e.Message, StringComparison.Ordinal);
    }
}
