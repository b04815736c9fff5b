using System.Globalization;
using System.Text.Json;
using static DistSac.Bench.BenchOutput;

namespace DistSac.Bench;

/// <summary>`bench local` settings. <paramref name="Distsac"/>: the executable whose `local` command is measured.</summary>
/// <param name="ChildNice">`local --child-nice` (workers' and gateway's nice increment); null: `local`'s default.</param>
public sealed record LocalVsLearnerSettings(string Distsac, int Threads, long Steps, long Warmup, TimeSpan LearnerDuration, long Seed, TimeSpan Timeout, int? ChildNice = null);

/// <summary>The distributed learner's updates/s between its first and last progress lines after the warm-up, and its waits.</summary>
/// <param name="UpdateMs">Mean wall milliseconds inside one gradient update over the same window (metrics' update_time_s); null from a learner that does not write it.</param>
/// <param name="LoopOverheadMs">
/// Mean milliseconds per update of the window spent outside updates, rate-limiter and sample waits: the distributed
/// loop's own work on the update thread (copies, publishing, logging). With <see cref="UpdateMs"/> it splits a gap to
/// `bench learner` into "the update itself is slower" (cores taken by other processes) and "the loop does more".
/// </param>
public sealed record DistributedLearnerRate(double UpdatesPerS, long Updates, double Seconds, double? RateLimiterWaitS, double? SampleWaitS,
    double? UpdateMs = null, double? LoopOverheadMs = null);

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
            MeasuredSeconds = Math.Round(d.Seconds, 1), d.RateLimiterWaitS, d.SampleWaitS,
            LocalUpdateMs = Round3(d.UpdateMs), LocalLoopOverheadMs = Round3(d.LoopOverheadMs), LearnerUpdateMs = Math.Round(1000 / alone.UpdatesPerS, 3), Settings.ChildNice,
            LocalWallS = Math.Round(Run.WallSeconds, 1), LearnerSeconds = Math.Round(alone.Seconds, 1), Cores = Environment.ProcessorCount, Date = Today(),
        });
    }

    private static double? Round3(double? value) => value is { } v ? Math.Round(v, 3) : null;
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
        // Cumulative seconds (in updates, rate-limiter wait, sample wait) at the first and last line: the window's split.
        (double Update, double Limiter, double Sample)? firstSplit = null, lastSplit = null;
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
                (double, double, double)? split = Seconds(row, "update_time_s") is { } u && Seconds(row, "rate_limiter_wait_s") is { } w
                    && Seconds(row, "sample_wait_s") is { } sw ? (u, w, sw) : null;
                if (first is null) firstSplit = split;
                first ??= (updates, time.Value);
                last = (updates, time.Value);
                lastSplit = split;
                limiterWait = LocalRun.Rounded(row, "rate_limiter_wait_s");
                sampleWait = LocalRun.Rounded(row, "sample_wait_s");
            }
            catch (JsonException)
            {
                // a line cut short by a stop mid-write
            }
        }
        if (first is not { } a || last is not { } b || b.Updates <= a.Updates || b.Time <= a.Time) return null;
        long n = b.Updates - a.Updates;
        double? updateMs = null, overheadMs = null;
        if (firstSplit is { } f && lastSplit is { } l)
        {
            double inUpdates = l.Update - f.Update, waiting = l.Limiter - f.Limiter + (l.Sample - f.Sample);
            updateMs = 1000 * inUpdates / n;
            overheadMs = 1000 * Math.Max(0, b.Time - a.Time - inUpdates - waiting) / n;
        }
        return new DistributedLearnerRate(n / (b.Time - a.Time), n, b.Time - a.Time, limiterWait, sampleWait, updateMs, overheadMs);
    }

    private static double? Seconds(JsonElement row, string key) =>
        row.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
}
