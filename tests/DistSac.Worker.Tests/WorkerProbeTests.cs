using System.Net;
using DistSac.Envs;
using DistSac.Observability;
using DistSac.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistSac.Worker.Tests;

/// <summary>The worker's HTTP probes (Worker:HttpListen) answered over real HTTP on loopback.</summary>
public class WorkerProbeTests
{
    [Fact]
    public async Task Healthz_Answers_AndReadyz_Is503_WhileTheGatewayIsUnreachable()
    {
        string listen = $"http://127.0.0.1:{FreePort.Next()}";
        var options = new WorkerOptions { Gateway = "http://127.0.0.1:1", WorkerId = "probe-worker", HttpListen = listen, PushTimeoutMs = 500 };
        using var stop = new CancellationTokenSource();
        var running = new RolloutWorker(options, NullLoggerFactory.Instance).RunAsync(stop.Token);
        using var http = new HttpClient { BaseAddress = new Uri(listen) };

        Assert.Equal(HttpStatusCode.OK, (await GetEventuallyAsync(http, "/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/other")).StatusCode);

        await stop.CancelAsync();
        Assert.Equal(0, (await running).EnvSteps);
    }

    [Fact]
    public async Task Readyz_Is200_WhileStepping_AndMetricsFollowTheRollout()
    {
        var gateway = new TestGateway();
        var pendulum = EnvironmentRegistry.GetSpec("Pendulum-v1");
        gateway.PublishWeights(7, RandomActor.Create(pendulum, [16, 16], seed: 1, version: 7).ToBytes());
        await using var server = await GatewayServer.StartNewAsync(gateway);
        string listen = $"http://127.0.0.1:{FreePort.Next()}";
        var options = WorkerGatewayTests.Options(server, envs: 4, batch: 16) with { HttpListen = listen };
        using var stop = new CancellationTokenSource();
        var worker = new RolloutWorker(options, NullLoggerFactory.Instance);
        var running = worker.RunAsync(stop.Token);
        using var http = new HttpClient { BaseAddress = new Uri(listen) };

        await Eventually.TrueAsync(() => gateway.StoredTransitions >= 400 && worker.Metrics.Ready, "400 transitions stored");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        Dictionary<string, double> metrics = [];
        for (int i = 0; i < 100; i++)
        {
            metrics = await ScrapeAsync(http);
            if (metrics["distsac_weights_version"] == 7) break;
            await Task.Delay(50);
        }

        Assert.True(metrics["distsac_transitions_pushed_total"] >= 400, $"pushed {metrics["distsac_transitions_pushed_total"]}");
        Assert.Equal(0, metrics["distsac_transitions_pushed_total"] % 4); // whole vector steps of 4 envs
        // One scrape reads the counters one after another while the worker runs, so compare across two scrapes:
        // everything acknowledged by the first was stepped before the second.
        var later = await ScrapeAsync(http);
        Assert.True(later["distsac_env_steps_total"] >= metrics["distsac_transitions_pushed_total"],
            $"steps {later["distsac_env_steps_total"]} < pushed {metrics["distsac_transitions_pushed_total"]}");
        Assert.True(metrics["distsac_env_steps_per_second"] > 0);
        Assert.Equal(0, metrics["distsac_push_retries_total"]);
        Assert.Equal(7, metrics["distsac_weights_version"]);
        Assert.True(metrics.ContainsKey("distsac_episode_return"));

        await stop.CancelAsync();
        var result = await running;
        Assert.Equal(result.AcknowledgedTransitions, gateway.StoredTransitions);
    }

    private static async Task<Dictionary<string, double>> ScrapeAsync(HttpClient http)
    {
        var response = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync());
    }

    private static async Task<HttpResponseMessage> GetEventuallyAsync(HttpClient http, string path)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await http.GetAsync(path);
            }
            catch (HttpRequestException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }
}
