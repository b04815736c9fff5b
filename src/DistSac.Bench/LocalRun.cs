using System.Diagnostics;
using System.Text.Json;
using DistSac.Processes;
using static DistSac.Bench.BenchOutput;

namespace DistSac.Bench;

/// <summary>How a `distsac local` child ended: its wall clock, exit code (null when it was stopped on timeout) and whether it timed out.</summary>
public readonly record struct LocalRunEnd(double WallSeconds, int? ExitCode, bool TimedOut);

/// <summary>`distsac local` as a child process for the benchmarks that time it from outside (`e2e`, `local`), and reading its metrics.jsonl.</summary>
public static class LocalRun
{
    /// <summary>Runs `local` with its output on stderr; on timeout or Ctrl-C it gets SIGTERM and time to stop its children.</summary>
    /// <param name="distsac">The executable.</param>
    /// <param name="args">Its arguments, starting with "local".</param>
    /// <param name="logPath">Where the child's output is also written.</param>
    /// <param name="timeout">Stop it after this long.</param>
    /// <param name="ct">Ctrl-C.</param>
    /// <param name="phases">Sees every output line with the seconds since the command started; null: none.</param>
    public static async Task<LocalRunEnd> RunAsync(string distsac, string[] args, string logPath, TimeSpan timeout, CancellationToken ct, E2ePhases? phases = null)
    {
        // The spawner's thread must outlive the child (its exit would SIGKILL it), so it is disposed after the child.
        using var spawner = new ProcessSpawner();
        long started = Stopwatch.GetTimestamp();
        var child = await spawner.StartAsync("local", distsac, args, new Dictionary<string, string>(), logPath, (_, line) =>
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
        return new LocalRunEnd(wall, exitCode, timedOut);
    }

    /// <summary>A fresh temporary directory for a run's files: "{prefix}" plus 12 random hex digits.</summary>
    public static string CreateRoot(string prefix) =>
        Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N")[..12])).FullName;

    /// <summary>A whole number (env steps, updates); null when missing or not a number.</summary>
    public static long? Count(JsonElement row, string key) =>
        row.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

    /// <summary>A number rounded to one decimal; null when missing or not a number.</summary>
    public static double? Rounded(JsonElement row, string key) =>
        row.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? Math.Round(v.GetDouble(), 1) : null;
}
