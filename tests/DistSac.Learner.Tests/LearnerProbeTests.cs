using System.Net;
using DistSac.Learning;
using DistSac.Observability;
using DistSac.Replay;
using DistSac.Testing;

namespace DistSac.Learner.Tests;

/// <summary>The learner's HTTP probes (Learner:HttpListen) over real HTTP, with a real Redis and no workers yet.</summary>
public class LearnerProbeTests
{
    [Fact]
    public async Task LearnerIsReady_AfterFirstWeights_AndReportsWaitingForWarmup_ThenStopsAnswering()
    {
        await using var redis = await RedisServer.StartAsync();
        var runsRoot = Directory.CreateTempSubdirectory("distsac-learner-probe-");
        try
        {
            var replay = new ReplayOptions
            {
                RunId = "probe-" + Guid.NewGuid().ToString("N")[..12],
                Shards = [redis.Endpoint],
                CapacityPerShard = 10_000,
                Password = redis.Password,
            };
            string listen = $"http://127.0.0.1:{FreePort.Next()}";
            var options = new LearnerOptions
            {
                Steps = 1_000, WarmupTransitions = 100, EvalEpisodes = 1, Device = "cpu", Threads = 1,
                RunsRoot = runsRoot.FullName, HttpListen = listen,
            };
            var learner = new DistributedLearner(options, new SacOptions(), replay);
            using var stop = new CancellationTokenSource();
            var running = learner.RunAsync(stop.Token);
            using var http = new HttpClient { BaseAddress = new Uri(listen) };

            Dictionary<string, double> metrics = [];
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline)
            {
                if (learner.Exporter.Ready)
                {
                    metrics = await ScrapeAsync(http);
                    if (metrics["distsac_rate_limiter_waiting{reason=\"warmup\"}"] == 1) break;
                }
                Assert.False(running.IsCompleted, "the learner stopped early");
                await Task.Delay(20);
            }

            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
            Assert.Equal(1, metrics["distsac_rate_limiter_waiting{reason=\"warmup\"}"]);
            Assert.Equal(0, metrics["distsac_rate_limiter_waiting{reason=\"learner_ahead\"}"]);
            Assert.Equal(0, metrics["distsac_weights_version"]);
            Assert.Equal(0, metrics["distsac_updates_total"]);
            Assert.Equal(0, metrics["distsac_samples_total"]);
            foreach (var name in new[] { "distsac_updates_per_second", "distsac_env_steps", "distsac_env_steps_per_second", "distsac_staleness_mean",
                         "distsac_staleness_max", "distsac_rate_limiter_wait_seconds_total", "distsac_eval_return", "distsac_alpha",
                         "distsac_critic_loss", "distsac_actor_loss", "distsac_workers_active", "distsac_workers_seen" })
                Assert.True(metrics.ContainsKey(name), name);

            await stop.CancelAsync();
            try
            {
                await running;
            }
            catch (OperationCanceledException)
            {
            }
            await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("/healthz"));
        }
        finally
        {
            runsRoot.Delete(recursive: true);
        }
    }

    private static async Task<Dictionary<string, double>> ScrapeAsync(HttpClient http)
    {
        var response = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync());
    }
}
