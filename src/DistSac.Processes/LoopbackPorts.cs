using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace DistSac.Processes;

/// <summary>
/// Free loopback ports for child processes to listen on. A port handed out by the kernel (bind to 0) comes from the
/// ephemeral range, the same range every outgoing connection of every process on the machine draws its local port
/// from: between our check and the child's bind, another process's connection can take it ("address already in use"
/// stopped a whole `distsac local` run on a busy machine). Ports below that range are never handed out implicitly, so
/// one that is free now stays free unless someone asks for it by number.
/// </summary>
public static class LoopbackPorts
{
    private const string RangeFile = "/proc/sys/net/ipv4/ip_local_port_range";
    private const int Lowest = 10_000;

    /// <summary>A port that is free on 127.0.0.1 now, below the ephemeral range when there is room; else the kernel's choice.</summary>
    public static int Next()
    {
        int below = EphemeralRangeStart();
        if (below - Lowest >= 1_000)
        {
            for (int attempt = 0; attempt < 64; attempt++)
            {
                int port = Random.Shared.Next(Lowest, below);
                if (IsFree(port)) return port;
            }
        }
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The first port of the kernel's ephemeral range (Linux default 32768).</summary>
    public static int EphemeralRangeStart()
    {
        try
        {
            var first = File.ReadAllText(RangeFile).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0];
            return int.Parse(first, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32_768;
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
