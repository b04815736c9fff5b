using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Grpc.Health.V1;
using Grpc.Net.Client;
using k8s.Models;

namespace DistSac.Cluster.Tests;

/// <summary>The kubelet's part: probes as written in the manifests, exec into a pod, the readiness loop.</summary>
public sealed partial class LabCluster
{
    /// <summary>Runs a probe of the pod's container once, exactly as written in the manifest.</summary>
    public async Task<bool> ProbeAsync(Pod pod, V1Probe probe, CancellationToken ct)
    {
        var timeout = TimeSpan.FromSeconds(Math.Max(1, probe.TimeoutSeconds ?? 1));
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            var address = pod.Network.Address;
            if (probe.HttpGet is { } get)
            {
                var port = PortNumber(pod.Launch.Container, get.Port.Value);
                using var response = await _http.GetAsync($"http://{address}:{port}{get.Path}", cts.Token);
                return (int)response.StatusCode is >= 200 and < 400;
            }
            if (probe.Grpc is { } grpc)
            {
                using var channel = GrpcChannel.ForAddress($"http://{address}:{grpc.Port}");
                var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest { Service = grpc.Service ?? "" }, cancellationToken: cts.Token);
                return reply.Status == HealthCheckResponse.Types.ServingStatus.Serving;
            }
            if (probe.TcpSocket is { } tcp)
            {
                using var client = new TcpClient();
                await client.ConnectAsync(address, PortNumber(pod.Launch.Container, tcp.Port.Value), cts.Token);
                return true;
            }
            if (probe.Exec is { } exec)
                return await ExecAsync(pod, exec.Command, cts.Token) == 0;
            throw new NotSupportedException($"{pod.Launch.Owner}: a probe with no handler");
        }
        catch (Exception ex) when (ex is HttpRequestException or Grpc.Core.RpcException or SocketException or OperationCanceledException or IOException)
        {
            return false;
        }
    }

    /// <summary>Prometheus text from the pod's named container port, as name{labels} -> value.</summary>
    /// <summary>Runs a command inside the pod (its namespaces, mounts, user and environment), as an exec probe does.</summary>
    public async Task<int> ExecAsync(Pod pod, IEnumerable<string> command, CancellationToken ct)
    {
        using var process = Process.Start(Pod.StartInfo(pod.Launch, pod.Network, command))!;
        var drain = Task.WhenAll(process.StandardOutput.ReadToEndAsync(ct), process.StandardError.ReadToEndAsync(ct));
        try
        {
            await process.WaitForExitAsync(ct);
            await drain;
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }
        return process.ExitCode;
    }

    private async Task KubeletLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var probes = Pods.Where(p => !p.Deleted && !p.HasExited).Select(async pod =>
            {
                var probe = pod.Launch.Container.ReadinessProbe;
                pod.Ready = probe is null || await ProbeAsync(pod, probe, ct);
            });
            foreach (var pod in Pods.Where(p => p.HasExited)) pod.Ready = false;
            try
            {
                await Task.WhenAll(probes);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            RefreshEndpoints(force: false);
            await Task.Delay(1000, ct).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private static int PortNumber(V1Container container, string port) =>
        int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : container.Ports?.SingleOrDefault(p => p.Name == port)?.ContainerPort
              ?? throw new InvalidOperationException($"container {container.Name} has no port named '{port}'");
}
