using System.Net;
using DistSac.Testing;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace DistSac.Gateway.Tests;

/// <summary>Kubernetes probes and Prometheus against a real gateway: HTTP/1.1 on Gateway:HttpListen, gRPC health on the gRPC port.</summary>
public class GatewayProbeTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly GatewayOptions WithProbes = new() { HttpListen = "http://127.0.0.1:0" };

    [Fact]
    public async Task ProbesAnswer_AndMetricsCountThreePushesOf64Transitions()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, WithProbes);
        using var http = new HttpClient { BaseAddress = bed.Gateway.HttpAddress };
        await bed.RegisterAsync("worker-a");
        for (int seq = 0; seq < 3; seq++)
            await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", seq, GatewayTestbed.Records(64, seq)));
        await bed.Client.PushAsync(GatewayTestbed.Push("worker-a", 2, GatewayTestbed.Records(64, 2))); // a retry: duplicate

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
        var metrics = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        var lines = (await metrics.Content.ReadAsStringAsync()).Split('\n');
        Assert.Contains("distsac_gateway_pushes_total 4", lines);
        Assert.Contains("distsac_transitions_pushed_total 192", lines);
        Assert.Contains("distsac_push_duplicates_total 1", lines);
        Assert.Contains("distsac_transitions_rejected_total 0", lines);
        Assert.Contains("distsac_replay_fill{shard=\"0\"} 192", lines);
        Assert.Contains("distsac_rate_limiter_holding 0", lines);
        Assert.Contains("distsac_rate_limiter_held_seconds_total 0", lines);
        Assert.Contains("distsac_weight_streams 0", lines);
        Assert.Contains("distsac_weights_version -1", lines);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/nothing")).StatusCode);
    }

    [Fact]
    public async Task GrpcHealth_IsServing_OnTheGrpcPort()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server);
        using var channel = GrpcChannel.ForAddress(bed.Gateway.Address);

        var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
        Assert.Null(bed.Gateway.HttpAddress);
    }

    [Fact]
    public async Task GrpcHealth_IsNotServing_AndReadyzIs503_WhileTheRunHasNoMetadata()
    {
        await using var bed = await GatewayTestbed.StartAsync(redis.Server, WithProbes, createRun: false);
        using var channel = GrpcChannel.ForAddress(bed.Gateway.Address);
        using var http = new HttpClient { BaseAddress = bed.Gateway.HttpAddress };

        var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, reply.Status);
        var readyz = await http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyz.StatusCode);
        Assert.Contains("run metadata missing", await readyz.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadyzIs503_AndGrpcHealthNotServing_WhenRedisIsKilled()
    {
        await using var own = await RedisServer.StartAsync();
        await using var bed = await GatewayTestbed.StartAsync(own, WithProbes);
        using var channel = GrpcChannel.ForAddress(bed.Gateway.Address);
        using var http = new HttpClient { BaseAddress = bed.Gateway.HttpAddress };
        var health = new Health.HealthClient(channel);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);

        await own.KillAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest())).Status);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/metrics")).StatusCode);
    }
}
