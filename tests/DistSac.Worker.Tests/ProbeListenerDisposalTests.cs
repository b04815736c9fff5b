using System.Net;
using System.Net.Sockets;
using DistSac.Observability;
using DistSac.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace DistSac.Worker.Tests;

/// <summary>
/// Stopping the probe endpoint releases its port once and never binds it again: the managed HttpListener's Stop()
/// followed by Close() unregisters twice, and the second unregistration re-binds the port, so a process that took the
/// port in between made the role's shutdown throw "Address already in use" (seen in the learner's tests, where the
/// exception replaced the run's result).
/// </summary>
public class ProbeListenerDisposalTests
{
    [Fact]
    public async Task Disposing_never_throws_when_another_socket_takes_the_port_the_moment_it_is_freed()
    {
        var registry = Metrics.NewCustomRegistry();
        for (int round = 0; round < 40; round++)
        {
            int port = FreePort.Next();
            var probes = ProbeListener.Start($"http://127.0.0.1:{port}", () => true, registry, NullLogger.Instance);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);

            // A competitor spins on bind so that it holds the port from the first instant the probe lets go of it.
            using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var competitor = Task.Factory.StartNew(() => TakePort(port, giveUp.Token), TaskCreationOptions.LongRunning);
            await probes.DisposeAsync();
            var holder = await competitor;
            Assert.NotNull(holder);
            holder!.Dispose();
        }
    }

    [Fact]
    public async Task The_port_is_free_after_disposal_and_a_second_disposal_is_a_no_op()
    {
        int port = FreePort.Next();
        var probes = ProbeListener.Start($"http://127.0.0.1:{port}", () => true, Metrics.NewCustomRegistry(), NullLogger.Instance);
        await probes.DisposeAsync();
        await probes.DisposeAsync();
        using var again = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        again.Bind(new IPEndPoint(IPAddress.Loopback, port));
        again.Listen();
    }

    private static Socket? TakePort(int port, CancellationToken giveUp)
    {
        while (!giveUp.IsCancellationRequested)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
                socket.Listen();
                return socket;
            }
            catch (SocketException)
            {
                socket.Dispose();
            }
        }
        return null;
    }
}
