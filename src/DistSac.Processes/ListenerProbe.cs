using System.Net;
using System.Net.Sockets;

namespace DistSac.Processes;

/// <summary>Waits until a child process accepts TCP connections on a loopback port.</summary>
public static class ListenerProbe
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// True once 127.0.0.1:<paramref name="port"/> accepts a connection; false when <paramref name="child"/> exits
    /// first or <paramref name="timeout"/> passes (the caller decides what that means; nothing is thrown for it).
    /// </summary>
    public static async Task<bool> WaitUntilAcceptingAsync(int port, ChildProcess child, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!child.HasExited && DateTime.UtcNow < deadline)
        {
            if (await AcceptsAsync(port, ct)) return true;
            await Task.Delay(PollInterval, ct);
        }
        return false;
    }

    /// <summary>One connect attempt, closed at once.</summary>
    public static async Task<bool> AcceptsAsync(int port, CancellationToken ct)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
