using System.Net;
using System.Net.Sockets;

namespace DistSac.Testing;

/// <summary>Hands out loopback TCP ports that were free a moment ago (bind to port 0, read it back, release it).</summary>
public static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
