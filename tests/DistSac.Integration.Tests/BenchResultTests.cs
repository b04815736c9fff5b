using System.Text.Json;
using DistSac.Bench;

namespace DistSac.Integration.Tests;

/// <summary>
/// The JSON lines of the benchmarks in DistSac.Bench: docs/benchmarks.md and bench/*.sh read these field names, so
/// each result's line must keep them, in this order; and the pure parts (flag parsing, metrics reading) of the harnesses.
/// </summary>
public sealed class BenchResultTests
{
    private static string[] Keys(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.EnumerateObject().Select(p => p.Name)];
    }

    [Fact]
    public void Ingest_KeepsItsFieldNames()
    {
        var r = new IngestResult(new IngestSettings(4, 1, 256, TimeSpan.FromSeconds(2), TimeSpan.Zero), 1000, 4, 1.5, 100, 100,
            new CpuUse(1, 0.5), 2000, new RedisBenchmarkTool.Baselines(10, null, 5));
        Assert.Equal(
            ["benchmark", "value", "unit", "clients", "shards", "batch", "seconds", "pushes_per_s", "mean_ack_ms", "acked_transitions", "stored_transitions",
             "stored_verified", "process_cpu_cores", "redis_cpu_cores", "direct_insert_transitions_per_s", "redis_benchmark_set_per_s",
             "redis_benchmark_setrange_per_s", "redis_benchmark_hset_per_s", "ceiling_transitions_per_s", "hset_ceiling_transitions_per_s", "cores", "date"],
            Keys(r.ToJson()));
        Assert.True(r.StoredVerified);
        Assert.False((r with { Stored = 99 }).StoredVerified);
    }

    [Fact]
    public void Sample_KeepsItsFieldNames_WithAndWithoutTheLearnerRun()
    {
        var settings = new SampleSettings(1, 5000, 16, TimeSpan.FromSeconds(1), TimeSpan.Zero, 0, 0);
        var r = new SampleResult(settings, 100, new CpuUse(1, 0.3), 200, new CpuUse(1.1, 0.4), new MirrorResult(1000, new CpuUse(0.9, 0), 5000, 1e-5, 1 << 20), null);
        string[] expected =
        [
            "benchmark", "value", "unit", "best", "direct_batches_per_s", "prefetcher_batches_per_s", "transitions_per_s", "batch_size", "shards", "fill",
            "concurrency", "seconds", "process_cpu_cores", "redis_cpu_cores", "redis_path_cpu_us_per_batch", "mirror_batches_per_s", "mirror_cpu_us_per_batch",
            "mirror_refill_records_per_s", "mirror_refill_process_cpu_cores", "mirror_refill_redis_cpu_cores", "mirror_allocated_mib",
            "learner_updates_per_s", "learner_threads", "mirror_sampling_cores_at_learner_rate", "redis_sampling_cores_at_learner_rate", "cores", "date",
        ];
        Assert.Equal(expected, Keys(r.ToJson()));
        var withLearner = r with { Learner = new LearnerRate(50, 2, true, 1) };
        Assert.Equal(expected, Keys(withLearner.ToJson()));
        using var doc = JsonDocument.Parse(withLearner.ToJson());
        Assert.Equal("prefetcher", doc.RootElement.GetProperty("best").GetString());
        Assert.Equal(2, doc.RootElement.GetProperty("learner_threads").GetInt32());
    }

    [Fact]
    public void GatewayIdle_KeepsItsFieldNames_AndNaNCpuBecomesNull()
    {
        var settings = new GatewayIdleSettings("distsac", 8, 50, 1000, TimeSpan.FromSeconds(1), TimeSpan.Zero, new Dictionary<string, string>());
        var cpu = new ProcessCpu(0.01, 0.001, 1);
        var r = new GatewayIdleResult(settings, "shipped", 1.2, cpu, cpu, 990, new ProcessCpu(double.NaN, 0, 1), 0, cpu);
        Assert.Equal(
            ["benchmark", "value", "unit", "gateway_env", "ingest_gateway_cpu_cores", "held_gateway_cpu_cores", "no_client_gateway_cpu_cores",
             "ingest_redis_cpu_cores", "held_redis_cpu_cores", "no_client_redis_cpu_cores", "startup_gateway_cpu_s", "warm_up_gateway_cpu_cores",
             "ingest_transitions_per_s", "offered_transitions_per_s", "batch", "held_clients", "pushes_answered_while_held", "seconds", "warm_up_seconds",
             "cores", "date"],
            Keys(r.ToJson()));
        using var doc = JsonDocument.Parse(r.ToJson());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("value").ValueKind);
    }

    [Fact]
    public void EndToEnd_KeepsItsFieldNames()
    {
        var r = new EndToEndResult(new EndToEndSettings("distsac", 2, 1, 0, 2000, TimeSpan.FromMinutes(1)), new LocalRunEnd(40, 0, false),
            new E2ePhases(-200), new E2eOutcome(false, null, null, null, -1400, 2), "/tmp/x");
        Assert.Equal(
            ["benchmark", "value", "unit", "reached", "env_steps", "updates", "startup_s", "learner_to_target_s", "learner_time_s", "final_evaluation_s",
             "shutdown_s", "stop_children_s", "plot_and_exit_s", "wall_s", "final_eval", "evaluations", "target_return", "workers", "shards", "seed",
             "steps", "eval_interval", "timed_out", "child_exit_code", "cores", "date"],
            Keys(r.ToJson()));
    }

    [Fact]
    public void LocalVsLearner_KeepsItsFieldNames_AndHasNoLineWithoutARate()
    {
        var settings = new LocalVsLearnerSettings("distsac", 2, 6000, 1000, TimeSpan.FromSeconds(20), 0, TimeSpan.FromMinutes(30));
        var r = new LocalVsLearnerResult(settings, new LocalRunEnd(80, 0, false), new DistributedLearnerRate(66, 4500, 68, 0.9, 0.1), new LearnerRate(50, 2, true, 20), "/tmp/x");
        Assert.Equal(
            ["benchmark", "value", "unit", "local_updates_per_s", "learner_updates_per_s", "threads", "concurrent_streams", "workers", "shards", "env", "steps",
             "warmup", "measured_updates", "measured_seconds", "rate_limiter_wait_s", "sample_wait_s", "local_update_ms", "local_loop_overhead_ms", "learner_update_ms",
             "child_nice", "local_wall_s", "learner_seconds", "cores", "date"],
            Keys(r.ToJson()));
        var failed = r with { Distributed = null };
        Assert.False(failed.Completed);
        Assert.Throws<InvalidOperationException>(() => failed.ToJson());
    }

    [Fact]
    public void ParseEnvPairs_ReadsPairs_AndNamesTheBadOne()
    {
        var pairs = GatewayIdleBenchmark.ParseEnvPairs(" DOTNET_TieredPGO=1, A=b=c ,", "--compare-env");
        Assert.Equal(2, pairs.Count);
        Assert.Equal("1", pairs["DOTNET_TieredPGO"]);
        Assert.Equal("b=c", pairs["A"]);
        Assert.Empty(GatewayIdleBenchmark.ParseEnvPairs("", "--compare-env"));
        var e = Assert.Throws<ArgumentException>(() => GatewayIdleBenchmark.ParseEnvPairs("A=1,=2", "--compare-env"));
        Assert.Contains("'=2'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Metrics_FirstEvaluationAtTheTarget_AndTheRateBetweenProgressLines()
    {
        var dir = Directory.CreateTempSubdirectory("distsac-bench-metrics-");
        try
        {
            var path = Path.Combine(dir.FullName, "metrics.jsonl");
            File.WriteAllLines(path,
            [
                """{"updates":500,"env_steps":1500,"time_s":10.0,"rate_limiter_wait_s":0.5,"sample_wait_s":0.1,"update_time_s":8.0}""",
                """{"updates":600,"env_steps":1600,"time_s":11.0,"eval_return":-900.0}""",
                """{"updates":1500,"env_steps":2500,"time_s":20.0,"rate_limiter_wait_s":0.74,"sample_wait_s":0.26,"update_time_s":17.0}""",
                """{"updates":1600,"env_steps":2600,"time_s":21.0,"eval_return":-150.0}""",
                """{"updates":1700,"env_steps":2700,"time_s":22.0,"eval_return":-180.0}""",
                """{"updates":17""", // cut short by a stop mid-write
            ]);
            var outcome = EndToEndBenchmark.ReadMetrics(path);
            Assert.True(outcome.Reached);
            Assert.Equal(2600, outcome.EnvSteps);
            Assert.Equal(1600, outcome.Updates);
            Assert.Equal(21.0, outcome.LearnerTimeS);
            Assert.Equal(-180.0, outcome.FinalEval);
            Assert.Equal(3, outcome.Evaluations);

            var rate = LocalVsLearnerBenchmark.DistributedRate(path);
            Assert.NotNull(rate);
            Assert.Equal(100.0, rate.UpdatesPerS, 6); // (1500 - 500) updates over 10 s; evaluation lines excluded
            Assert.Equal(1000, rate.Updates);
            Assert.Equal(0.7, rate.RateLimiterWaitS); // the last progress line's, rounded to one decimal
            Assert.Equal(0.3, rate.SampleWaitS);
            // 9 s of the window's 10 inside updates, 0.24 + 0.16 s waiting: 0.6 s of loop overhead over 1,000 updates.
            Assert.Equal(9.0, rate.UpdateMs!.Value, 6);
            Assert.Equal(0.6, rate.LoopOverheadMs!.Value, 6);
            Assert.Null(LocalVsLearnerBenchmark.DistributedRate(Path.Combine(dir.FullName, "missing.jsonl")));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Scale_KeepsItsFieldNames_AndTakesEachWorkerProgramsOwnBaseline()
    {
        WorkerExecutable jit = new("jit", "/bin/distsac", ["worker"]), aot = new("aot", "/bin/distsac-worker", []);
        var settings = new ScaleSettings([1, 2], 2000, DistSac.Worker.SimulatedCostMode.Sleep, TimeSpan.FromSeconds(3), 1, 1, TimeSpan.Zero, [jit, aot]);
        var use = new WorkerUse(0.2, 40, 60, 61, 15);
        var r = new ScaleResult(settings,
        [
            new ScalePoint(jit, 1, 400, new CpuUse(0.1, 0.05), use), new ScalePoint(aot, 1, 500, new CpuUse(0.1, 0.05), use),
            new ScalePoint(jit, 2, 600, new CpuUse(0.2, 0.1), use), new ScalePoint(aot, 2, 1000, new CpuUse(0.2, 0.1), use),
        ]);
        Assert.Equal(
            ["benchmark", "unit", "step_cost_us", "step_cost_mode", "envs_per_worker", "shards", "seconds", "ideal_env_steps_per_s_per_worker", "points", "cores", "date"],
            Keys(r.ToJson()));
        using var doc = JsonDocument.Parse(r.ToJson());
        var points = doc.RootElement.GetProperty("points").EnumerateArray().ToList();
        Assert.Equal(
            ["worker", "workers", "env_steps_per_s", "efficiency", "worker_cpu_us_per_step", "simulator_cpu_us_per_step", "worker_cpu_us_per_step_outside_simulator", "worker_rss_mean_mb", "worker_rss_max_mb", "workers_cores",
             "gateway_process_cores", "redis_cores"],
            points[0].EnumerateObject().Select(p => p.Name).ToArray());
        // Grouped by program, the first (jit) first; each program's efficiency against its own one-worker rate.
        Assert.Equal(["jit", "jit", "aot", "aot"], points.Select(p => p.GetProperty("worker").GetString()!).ToArray());
        Assert.Equal([1.0, 0.75, 1.0, 1.0], points.Select(p => p.GetProperty("efficiency").GetDouble()).ToArray());
        Assert.Equal(500.0, doc.RootElement.GetProperty("ideal_env_steps_per_s_per_worker").GetDouble());
        // The simulator's own CPU is reported beside the worker's, and subtracted only in its own column.
        Assert.Equal(40.0, points[0].GetProperty("worker_cpu_us_per_step").GetDouble());
        Assert.Equal(25.0, points[0].GetProperty("worker_cpu_us_per_step_outside_simulator").GetDouble());
        Assert.Equal("sleep", doc.RootElement.GetProperty("step_cost_mode").GetString());
        // The plotted curve and its per-worker line are the first program's.
        Assert.Equal([(1, 400.0), (2, 600.0)], r.Rates);
        Assert.Equal(400.0, r.PerWorker);
    }

    [Fact]
    public void Worker_KeepsItsFieldNames()
    {
        var rollout = new DistSac.Worker.RolloutBenchmarkResult(200_000, 4, 200_000, 1, "256x256", 64, 3125, 0.001, 0, 1);
        var r = new WorkerBenchResult(new WorkerBenchSettings("Pendulum-v1", 4, 64, TimeSpan.FromSeconds(1), TimeSpan.Zero), rollout, 43.7, TorchSharpLoaded: false);
        Assert.Equal(
            ["benchmark", "value", "unit", "envs", "cores", "threads", "env", "hidden", "batch_transitions", "steps", "seconds", "allocated_bytes_per_step",
             "gen0_collections", "acting_version", "rss_mb", "torchsharp_loaded", "date"],
            Keys(r.ToJson()));
        using var doc = JsonDocument.Parse(r.ToJson());
        Assert.Equal("Pendulum-v1", doc.RootElement.GetProperty("env").GetString());
        Assert.False(doc.RootElement.GetProperty("torchsharp_loaded").GetBoolean());
    }
}
