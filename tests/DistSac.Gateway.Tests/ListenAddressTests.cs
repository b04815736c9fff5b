using System.Net;

namespace DistSac.Gateway.Tests;

public sealed class ListenAddressTests
{
    [Theory]
    [InlineData("http://0.0.0.0:50051", "0.0.0.0", 50051)]
    [InlineData("http://*:50051", "0.0.0.0", 50051)]
    [InlineData("http://127.0.0.1:0", "127.0.0.1", 0)]
    [InlineData("http://[::]:7000", "::", 7000)]
    public void Parse_ReadsHostAndPort(string value, string ip, int port) =>
        Assert.Equal(new ListenAddress(IPAddress.Parse(ip), port), ListenAddress.Parse(value));

    [Fact]
    public void Parse_ReadsHttpsAsTls()
    {
        Assert.True(ListenAddress.Parse("https://0.0.0.0:50051").Https);
        Assert.False(ListenAddress.Parse("http://0.0.0.0:50051").Https);
    }

    [Fact]
    public void Parse_TreatsLocalhostAsBothLoopbacks() =>
        Assert.True(ListenAddress.Parse("http://localhost:50051").IsLocalhost);

    [Theory]
    [InlineData("ftp://0.0.0.0:50051", "https://host:port")]
    [InlineData("http://0.0.0.0", "http://host:port")]
    [InlineData("0.0.0.0:50051", "http://host:port")]
    [InlineData("http://gateway.local:50051", "not an IP address")]
    [InlineData("http://0.0.0.0:70000", "port must be in")]
    public void Parse_RefusesWithTheKeyAndTheFix(string value, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => ListenAddress.Parse(value));

        Assert.Contains("Gateway:Listen", error.Message);
        Assert.Contains(expected, error.Message);
    }
}
