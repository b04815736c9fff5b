using System.ComponentModel.DataAnnotations;

namespace DistSac.Gateway.Tests;

public sealed class GatewayOptionsTests
{
    [Fact]
    public void Validate_AcceptsTheDefaults() => new GatewayOptions().Validate();

    [Theory]
    [InlineData(-1, 5, "Gateway:MaxHoldMs")]
    [InlineData(0, 0, "Gateway:ProgressReconcileMs")]
    public void Validate_NamesTheBadKey(int maxHoldMs, int pollMs, string expected)
    {
        var options = new GatewayOptions { MaxHoldMs = maxHoldMs, ProgressReconcileMs = pollMs };

        var error = Assert.Throws<ValidationException>(options.Validate);

        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(1e39)]
    public void Validate_RefusesAMagnitudeLimitThatIsNotAPositiveFloat32(double limit)
    {
        var error = Assert.Throws<ValidationException>(() => new GatewayOptions { MaxAbsValue = limit }.Validate());

        Assert.StartsWith("Gateway:MaxAbsValue = ", error.Message);
        Assert.Contains("is invalid: must be > 0", error.Message);
    }

    [Fact]
    public void The_thread_pool_reads_Redis_replies_by_default() =>
        Assert.Equal(DistSac.Replay.ShardReaderThreads.ThreadPool, new GatewayOptions().RedisReplyThreads);

    [Fact]
    public void Validate_RefusesAnUndefinedReplyThreadsValue()
    {
        var error = Assert.Throws<ValidationException>(() => new GatewayOptions { RedisReplyThreads = (DistSac.Replay.ShardReaderThreads)7 }.Validate());

        Assert.StartsWith("Gateway:RedisReplyThreads = 7 is invalid: must be ThreadPool or Dedicated", error.Message);
    }
}

