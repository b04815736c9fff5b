using System.Globalization;
using System.Text.Json;
using static DistSac.Bench.BenchOutput;

namespace DistSac.Bench;

/// <summary>`bench local` settings. <paramref name="Distsac"/>: the executable whose `local` command is measured.</summary>
/// <param name="ChildNice">`local --child-nice` (workers' and gateway's nice increment); null: `local`'s default.</param>
public sealed record LocalVsLearnerSettings(string Distsac, int Threads, long Steps, long Warmup, TimeSpan LearnerDuration, long Seed, TimeSpan Timeout, int? ChildNice = null);

/// <summary>The distributed learner's updates/s between its first and last progress lines after the warm-up, and its waits.</summary>
public sealed record DistributedLearnerRate(double UpdatesPerS, long Updates, double Seconds, double? RateLimiterWaitS, double? SampleWaitS);

/// <summary>`bench local` figures; null <see cref="Distributed"/> or <see cref="Alone"/>: the `local` run did not finish cleanly (kept in <see cref="Root"/>).</summary>
public sealed record LocalVsLearnerResult(LocalVsLearnerSettings Settings, LocalRunEnd Run, DistributedLearnerRate? Distributed, LearnerRate? Alone, string Root)
{
    public bool Completed => Distributed is not null && Alone is not null;

    public string ToJson()
    {
        if (Distributed is not { } d || Alone is not { } alone) throw new InvalidOperationException("bench local has no result: the `local` run did not finish cleanly.");
        return Serialize(new
        {
            Benchmark = "local", Value = Math.Round(d.UpdatesPerS / alone.UpdatesPerS, 3), Unit = "ratio (local updates/s / bench learner updates/s)",
            LocalUpdatesPerS = Math.Round(d.UpdatesPerS, 1), LearnerUpdatesPerS = Math.Round(alone.UpdatesPerS, 1), alone.Threads, alone.ConcurrentStreams,
            Workers = 2, Shards = 1, Env = LocalVsLearnerBenchmark.Env, Settings.Steps, Settings.Warmup, MeasuredUpdates = d.Updates,
            MeasuredSeconds = Math.Round(d.Seconds, 1), d.RateLimiterWaitS, d.SampleWaitS, Settings.ChildNice,
            LocalWallS = Math.Round(Run.WallSeconds, 1), LearnerSeconds = Math.Round(alone.Seconds, 1), Cores = Environment.ProcessorCount, Date = Today(),
        });
    }
}

/// <summary>
/// The distributed learner against the learner alone, in one invocation. Runs `distsac local` (2 workers, 1 shard,
/// Pendulum-v1, a fixed number of env steps) and then `bench learner` (through the caller's probe) with the same torch
/// thread count; the figure is the ratio of their update rates (goal: >= 0.85). The distributed rate is taken from the
/// run's metrics.jsonl between its first and last progress lines after the warm-up (evaluations excluded), so process
/// start-up, warm-up and the final evaluation are not in it; rate-limiter and sample waits are.
/// </summary>
public static class LocalVsLearnerBenchmark
{
    public const string Env = "Pendulum-v1";
    private const string RunId = "bench-local";

    public static async Task<LocalVsLearnerResult> RunAsync(LocalVsLearnerSettings settings, LearnerRateProbe learnerProbe, CancellationToken ct)
    {
        var root = LocalRun.CreateRoot("distsac-bench-local-");
        string[] args = ["local", "--workers", "2", "--shards", "1", "--env", Env, "--steps", Inv(settings.Steps), "--warmup", Inv(settings.Warmup),
            "--seed", Inv(settings.Seed), "--eval-interval", "1000000000", "--learner-threads", Inv(settings.Threads), "--runs-root", root, "--run-id", RunId,
            .. (settings.ChildNice is { } nice ? new[] { "--child-nice", Inv(nice) } : [])];
        Say($"local: {settings.Distsac} {string.Join(' ', args)}");
        var run = await LocalRun.RunAsync(settings.Distsac, args, Path.Combine(root, "local.log"), settings.Timeout, ct);
        var distributed = DistributedRate(Path.Combine(root, RunId, "metrics.jsonl"));
        if (run.TimedOut || run.ExitCode != 0 || distributed is null)
        {
            Say($"local: the run did not finish cleanly (exit {run.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "none"}, timed out: {run.TimedOut}); kept in {root}");
            return new LocalVsLearnerResult(settings, run, null, null, root);
        }

        Say($"local: {distributed.UpdatesPerS:F1} updates/s; now `bench learner --threads {settings.Threads} --seconds {settings.LearnerDuration.TotalSeconds}`");
        var alone = learnerProbe(settings.Threads, settings.LearnerDuration);
        TryDeleteDirectory(root);
        return new LocalVsLearnerResult(settings, run, distributed, alone, root);
    }

    /// <summary>Updates/s between the first and last progress lines with updates done and no evaluation; null with fewer than two.</summary>
    public static DistributedLearnerRate? DistributedRate(string metricsPath)
    {
        if (!File.Exists(metricsPath)) return null;
        (long Updates, double Time)? first = null, last = null;
        double? limiterWait = null, sampleWait = null;
        foreach (var line in File.ReadLines(metricsPath))
        {
            if (line.Length == 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var row = doc.RootElement;
                if (row.TryGetProperty("eval_return", out var eval) && eval.ValueKind == JsonValueKind.Number) continue;
                long updates = LocalRun.Count(row, "updates") ?? 0;
                double? time = row.TryGetProperty("time_s", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetDouble() : null;
                if (updates <= 0 || time is null) continue;
                first ??= (updates, time.Value);
                last = (updates, time.Value);
                limiterWait = LocalRun.Rounded(row, "rate_limiter_wait_s");
                sampleWait = LocalRun.Rounded(row, "sample_wait_s");
            }
            catch (JsonException)
            {
                // a line cut short by a stop mid-write
            }
        }
        if (first is not { } a || last is not { } b || b.Updates <= a.Updates || b.Time <= a.Time) return null;
        return new DistributedLearnerRate((b.Updates - a.Updates) / (b.Time - a.Time), b.Updates - a.Updates, b.Time - a.Time, limiterWait, sampleWait);
    }
}
