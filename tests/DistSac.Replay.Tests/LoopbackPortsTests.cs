using System.Net;
using System.Net.Sockets;
using DistSac.Processes;

namespace DistSac.Replay.Tests;

/// <summary>Ports for child listeners come from below the ephemeral range, where no outgoing connection can take them.</summary>
public sealed class LoopbackPortsTests
{
    [Fact]
    public void Next_IsAFreePortBelowTheEphemeralRange()
    {
        int start = LoopbackPorts.EphemeralRangeStart();
        Assert.True(start > 11_000, $"this machine's ephemeral range starts at {start}: nothing to test");
        for (int i = 0; i < 20; i++)
        {
            int port = LoopbackPorts.Next();
            Assert.InRange(port, 10_000, start - 1);
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start(); // free: a child can bind it
        }
    }

    [Fact]
    public async Task ListenerProbe_TellsAListeningPortFromAClosedOne()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int open = ((IPEndPoint)listener.LocalEndpoint).Port;
        int closed = LoopbackPorts.Next(); // free, so nothing listens there

        Assert.True(await ListenerProbe.AcceptsAsync(open, CancellationToken.None));
        Assert.False(await ListenerProbe.AcceptsAsync(closed, CancellationToken.None));
    }
}
