using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DistSac.Learning;
using DistSac.Learning.Benchmarks;

namespace DistSac.Cli.Commands;

/// <summary>
/// `distsac bench local`: the distributed learner against the learner alone, in one invocation. Runs `distsac local`
/// (2 workers, 1 shard, Pendulum-v1, a fixed number of env steps) and then `bench learner` with the same torch thread
/// count, and prints both update rates and their ratio (goal: >= 0.85). The distributed rate is taken from the run's
/// metrics.jsonl between its first and last progress lines after the warm-up (evaluations excluded), so process start-up,
/// warm-up and the final evaluation are not in it; rate-limiter and sample waits are.
/// </summary>
public static partial class DistributedBenchCommand
{
    private static Command LocalVsLearner()
    {
        var threads = Opt("--threads", Environment.ProcessorCount, "Torch threads of both learners (`local --learner-threads`, `bench learner --threads`).");
        var steps = Opt("--steps", 6000L, "Env steps of the `local` run (updates = steps - warm-up at 1 update per transition).");
        var warmup = Opt("--warmup", 1000L, "Warm-up transitions of the `local` run.");
        var seconds = Opt("--seconds", 20.0, "Timed duration of the learner benchmark.");
        var seed = Opt("--seed", 0L, "Run seed of the `local` run.");
        var timeoutMinutes = Opt("--timeout-minutes", 30.0, "Give up (and fail) if `local` has not finished after this long.");
        var command = new Command("local", "Updates/s of `distsac local` (2 workers, 1 shard) over updates/s of `bench learner` with the same threads.")
        {
            threads, steps, warmup, seconds, seed, timeoutMinutes,
        };
        command.SetAction(async (parse, ct) =>
        {
            int t = Positive(parse.GetValue(threads), "--threads");
            long budget = Positive(parse.GetValue(steps), "--steps"), warm = Positive(parse.GetValue(warmup), "--warmup");
            if (budget <= warm + 500) throw new ArgumentException($"--steps must exceed --warmup by more than 500 (got {budget} and {warm}): the rate needs two progress lines.");
            var timeout = Seconds(parse.GetValue(timeoutMinutes) * 60, "--timeout-minutes");
            var duration = Seconds(parse.GetValue(seconds), "--seconds");
            var self = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find the distsac executable's path.");
            var root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "distsac-bench-local-" + Guid.NewGuid().ToString("N")[..12])).FullName;
            const string runId = "bench-local";
            string[] args = ["local", "--workers", "2", "--shards", "1", "--env", "Pendulum-v1", "--steps", Inv(budget), "--warmup", Inv(warm),
                "--seed", Inv(parse.GetValue(seed)), "--eval-interval", "1000000000", "--learner-threads", Inv(t), "--runs-root", root, "--run-id", runId];
            Say($"local: {self} {string.Join(' ', args)}");
            var (wall, exitCode, timedOut) = await RunLocalAsync(self, args, Path.Combine(root, "local.log"), timeout, ct);
            var distributed = DistributedRate(Path.Combine(root, runId, "metrics.jsonl"));
            if (timedOut || exitCode != 0 || distributed is null)
            {
                Say($"local: the run did not finish cleanly (exit {exitCode?.ToString(CultureInfo.InvariantCulture) ?? "none"}, timed out: {timedOut}); kept in {root}");
                return 1;
            }

            Say($"local: {distributed.UpdatesPerS:F1} updates/s; now `bench learner --threads {t} --seconds {duration.TotalSeconds}`");
            var device = TorchRuntime.ResolveDevice("cpu");
            var (n, concurrent) = TorchRuntime.ConfigureThreads(t, device);
            var alone = LearnerBenchmark.Run(device, n, duration, concurrentStreams: concurrent);
            Print(new
            {
                Benchmark = "local", Value = Math.Round(distributed.UpdatesPerS / alone.UpdatesPerSecond, 3), Unit = "ratio (local updates/s / bench learner updates/s)",
                LocalUpdatesPerS = Math.Round(distributed.UpdatesPerS, 1), LearnerUpdatesPerS = Math.Round(alone.UpdatesPerSecond, 1), Threads = n, ConcurrentStreams = concurrent,
                Workers = 2, Shards = 1, Env = "Pendulum-v1", Steps = budget, Warmup = warm, MeasuredUpdates = distributed.Updates,
                MeasuredSeconds = Math.Round(distributed.Seconds, 1), RateLimiterWaitS = distributed.RateLimiterWaitS, SampleWaitS = distributed.SampleWaitS,
                LocalWallS = Math.Round(wall, 1), LearnerSeconds = Math.Round(alone.Seconds, 1), Cores = Environment.ProcessorCount, Date = Today(),
            });
            TryDelete(root);
            return 0;
        });
        return command;
    }

    private sealed record DistributedLearnerRate(double UpdatesPerS, long Updates, double Seconds, double? RateLimiterWaitS, double? SampleWaitS);

    /// <summary>Updates/s between the first and last progress lines with updates done and no evaluation; null with fewer than two.</summary>
    private static DistributedLearnerRate? DistributedRate(string metricsPath)
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
                long updates = Long(row, "updates") ?? 0;
                double? time = row.TryGetProperty("time_s", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetDouble() : null;
                if (updates <= 0 || time is null) continue;
                first ??= (updates, time.Value);
                last = (updates, time.Value);
                limiterWait = Double(row, "rate_limiter_wait_s");
                sampleWait = Double(row, "sample_wait_s");
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
