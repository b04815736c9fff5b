using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DistSac.Cli.Local;

namespace DistSac.Cli.Commands;

/// <summary>
/// `distsac bench e2e`: the built `distsac local` as a child process until a deterministic evaluation reaches -200,
/// timed from outside: the value is the wall clock from the command to the learner's metrics line whose evaluation
/// reaches the target (issue 11 goal 5); start-up (command to "Learner ready": processes, JIT, Redis, TorchSharp),
/// the learner's part, the end-of-run evaluation and the shutdown are reported separately, from the times the child's
/// output lines arrived. Env steps are read back from the run's metrics.jsonl.
/// </summary>
public static partial class DistributedBenchCommand
{
    private const double TargetReturn = -200;

    private static Command EndToEnd()
    {
        var workers = Opt("--workers", 2, "Worker processes of `distsac local`.");
        var shards = Opt("--shards", 1, "redis-server shards of `distsac local`.");
        var seed = Opt("--seed", 0L, "Run seed.");
        var steps = Opt("--steps", 100_000L, "Env-step budget passed to `local` (training stops there even if the target was not reached).");
        var timeoutMinutes = Opt("--timeout-minutes", 30.0, "Give up (and fail) after this long.");
        var command = new Command("e2e", $"Wall-clock seconds and env steps for `distsac local` to reach a deterministic evaluation return of {TargetReturn} (Pendulum-v1).")
        {
            workers, shards, seed, steps, timeoutMinutes,
        };
        command.SetAction(async (parse, ct) =>
        {
            int w = Positive(parse.GetValue(workers), "--workers"), s = Positive(parse.GetValue(shards), "--shards");
            long runSeed = parse.GetValue(seed), budget = Positive(parse.GetValue(steps), "--steps");
            var timeout = Seconds(parse.GetValue(timeoutMinutes) * 60, "--timeout-minutes");
            var self = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find the distsac executable's path.");
            var root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "distsac-bench-e2e-" + Guid.NewGuid().ToString("N")[..12])).FullName;
            var runId = string.Create(CultureInfo.InvariantCulture, $"e2e-s{runSeed}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
            string[] args = ["local", "--workers", Inv(w), "--shards", Inv(s), "--seed", Inv(runSeed), "--steps", Inv(budget), "--eval-interval", "1000",
                "--stop-at-eval-return", Inv(TargetReturn), "--runs-root", root, "--run-id", runId];
            Say($"e2e: {self} {string.Join(' ', args)}");

            double wall;
            int? exitCode;
            bool timedOut;
            var phases = new E2ePhases(TargetReturn);
            try
            {
                (wall, exitCode, timedOut) = await RunLocalAsync(self, args, Path.Combine(root, "local.log"), timeout, ct, phases);
            }
            catch (OperationCanceledException)
            {
                TryDelete(root); // Ctrl-C: nothing to diagnose
                throw;
            }
            var outcome = ReadMetrics(Path.Combine(root, runId, "metrics.jsonl"));
            Print(new
            {
                Benchmark = "e2e", Value = S(phases.TargetReached), Unit = "s", outcome.Reached, outcome.EnvSteps, outcome.Updates,
                StartupS = S(phases.LearnerReady), LearnerToTargetS = S(phases.TargetReached - phases.LearnerReady), LearnerTimeS = outcome.LearnerTimeS,
                FinalEvaluationS = S(phases.FinalEvaluation - phases.TargetReached), ShutdownS = S(wall - (phases.FinalEvaluation ?? phases.TargetReached)),
                StopChildrenS = S(phases.ChildrenStopped - phases.FinalEvaluation), PlotAndExitS = S(wall - phases.ChildrenStopped),
                WallS = Math.Round(wall, 1), outcome.FinalEval, outcome.Evaluations, TargetReturn, Workers = w, Shards = s, Seed = runSeed,
                Steps = budget, TimedOut = timedOut, ChildExitCode = exitCode, Cores = Environment.ProcessorCount, Date = Today(),
            });
            if (outcome.Reached) TryDelete(root);
            else Say($"e2e: target not reached; the run is kept in {root}");
            return outcome.Reached ? 0 : 1;
        });
        return command;
    }

    /// <summary>Runs `local` with its output on stderr; on timeout or Ctrl-C it gets SIGTERM and time to stop its children.</summary>
    /// <param name="phases">Sees every output line with the seconds since the command started; null: none.</param>
    private static async Task<(double WallSeconds, int? ExitCode, bool TimedOut)> RunLocalAsync(
        string self, string[] args, string logPath, TimeSpan timeout, CancellationToken ct, E2ePhases? phases = null)
    {
        // The spawner's thread must outlive the child (its exit would SIGKILL it), so it is disposed after the child.
        using var spawner = new ProcessSpawner();
        long started = Stopwatch.GetTimestamp();
        var child = await spawner.StartAsync("local", self, args, new Dictionary<string, string>(), logPath, (_, line) =>
        {
            phases?.Observe(line, Stopwatch.GetElapsedTime(started).TotalSeconds);
            Console.Error.WriteLine(line);
        });
        bool timedOut = false;
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(timeout);
            try
            {
                await child.Exited.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                timedOut = true;
                Say($"e2e: no result after {timeout.TotalMinutes:F0} min; stopping `local`");
            }
        }
        finally
        {
            // `local` stops its learner with up to 60 s grace; leave it that plus the other children's.
            if (!child.HasExited) await child.StopAsync(TimeSpan.FromSeconds(90));
        }
        double wall = Stopwatch.GetElapsedTime(started).TotalSeconds;
        int? exitCode = timedOut ? null : child.ExitCode;
        await child.DisposeAsync();
        return (wall, exitCode, timedOut);
    }

    private static double? S(double? seconds) => seconds is { } v ? Math.Round(v, 1) : null;

    private sealed record E2eOutcome(bool Reached, long? EnvSteps, long? Updates, double? LearnerTimeS, double? FinalEval, int Evaluations);

    /// <summary>The first metrics line whose eval_return reaches the target, and the last evaluation seen.</summary>
    private static E2eOutcome ReadMetrics(string path)
    {
        if (!File.Exists(path))
        {
            Say($"e2e: {path} does not exist");
            return new E2eOutcome(false, null, null, null, null, 0);
        }
        E2eOutcome? reached = null;
        double? last = null;
        int evaluations = 0;
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0) continue;
            JsonElement row;
            try
            {
                using var doc = JsonDocument.Parse(line);
                row = doc.RootElement.Clone();
            }
            catch (JsonException)
            {
                continue; // a line cut short by a stop mid-write
            }
            if (!row.TryGetProperty("eval_return", out var eval) || eval.ValueKind != JsonValueKind.Number) continue;
            evaluations++;
            last = eval.GetDouble();
            if (reached is null && last >= TargetReturn)
                reached = new E2eOutcome(true, Long(row, "env_steps"), Long(row, "updates"), Double(row, "time_s"), last, 0);
        }
        return (reached ?? new E2eOutcome(false, null, null, null, null, 0)) with { FinalEval = last, Evaluations = evaluations };
    }

    private static long? Long(JsonElement row, string key) =>
        row.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

    private static double? Double(JsonElement row, string key) =>
        row.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? Math.Round(v.GetDouble(), 1) : null;

    private static string Inv(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
