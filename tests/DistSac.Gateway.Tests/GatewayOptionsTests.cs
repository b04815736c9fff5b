namespace DistSac.Gateway.Tests;

public sealed class GatewayOptionsTests
{
    [Fact]
    public void Validate_AcceptsTheDefaults() => new GatewayOptions().Validate();

    [Theory]
    [InlineData(-0.5, 0, 0, 5, "Gateway:RateLimit must be >= 0")]
    [InlineData(1, -1, 0, 5, "Gateway:RateLimitTolerance")]
    [InlineData(1, 0, -1, 5, "Gateway:MaxHoldMs")]
    [InlineData(1, 0, 0, 0, "Gateway:ProgressReconcileMs")]
    public void Validate_NamesTheBadKey(double ratio, double tolerance, int maxHoldMs, int pollMs, string expected)
    {
        var options = new GatewayOptions { RateLimit = ratio, RateLimitTolerance = tolerance, MaxHoldMs = maxHoldMs, ProgressReconcileMs = pollMs };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(1e39)]
    public void Validate_RefusesAMagnitudeLimitThatIsNotAPositiveFloat32(double limit)
    {
        var error = Assert.Throws<ArgumentException>(() => new GatewayOptions { MaxAbsValue = limit }.Validate());

        Assert.Contains("Gateway:MaxAbsValue must be > 0", error.Message);
    }
}
