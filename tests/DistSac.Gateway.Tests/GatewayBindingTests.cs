using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace DistSac.Gateway.Tests;

/// <summary>Where a gateway with the default Listen host can be reached from: this machine only.</summary>
public sealed class GatewayBindingTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public void TheDefaultListenAddress_IsLoopback()
    {
        var listen = ListenAddress.Parse(new GatewayOptions().Listen);

        Assert.True(listen.IsLoopback, $"default Gateway:Listen is {new GatewayOptions().Listen}");
        Assert.Equal(IPAddress.Loopback, listen.Address);
    }

    [Fact]
    public async Task AGatewayOnTheDefaultHost_RefusesConnectionsToThisMachinesOtherAddresses()
    {
        var external = NonLoopbackAddress();
        if (external is null) return; // a machine with only loopback has nothing to refuse from; the test above still holds
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        // Only the port changes: the host part is the default's.
        var listen = new GatewayOptions().Listen.Replace(":50051", ":0", StringComparison.Ordinal);
        await using var gateway = await GatewayHost.StartAsync(new GatewayOptions { Listen = listen, StatusLogIntervalMs = 0 }, bed.Replay);

        using var viaLoopback = new TcpClient();
        await viaLoopback.ConnectAsync(IPAddress.Loopback, gateway.Address.Port);
        using var viaExternal = new TcpClient();
        var refused = await Assert.ThrowsAsync<SocketException>(() => viaExternal.ConnectAsync(external, gateway.Address.Port));

        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    /// <summary>An IPv4 address of one of this machine's own interfaces that is not loopback, if there is one.</summary>
    private static IPAddress? NonLoopbackAddress()
    {
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != OperationalStatus.Up) continue;
            foreach (var a in nic.GetIPProperties().UnicastAddresses)
                if (a.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a.Address)) return a.Address;
        }
        return null;
    }
}
