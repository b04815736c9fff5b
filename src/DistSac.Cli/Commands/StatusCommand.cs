using System.CommandLine;
using System.Globalization;
using DistSac.Cli.Status;
using DistSac.Local;
using DistSac.Plots;

namespace DistSac.Cli.Commands;

/// <summary>
/// `distsac status [--gateway URL | --run runs/&lt;id&gt;]`: a refreshing screen of a distributed run from its roles'
/// /healthz, /readyz and /metrics. On a terminal the screen is redrawn in place; piped (CI, logs) it prints a plain
/// screen every interval.
/// </summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var gateway = new Option<string?>("--gateway") { Description = "Probe address of a gateway (Gateway:HttpListen), e.g. http://127.0.0.1:8080." };
        var run = new Option<string?>("--run") { Description = "A run directory started by `distsac local` (reads its endpoints.json)." };
        var interval = new Option<double>("--interval") { Description = "Seconds between refreshes.", DefaultValueFactory = _ => 2 };
        var once = new Option<bool>("--once") { Description = "Print one screen and exit (1 when no role answered)." };
        var command = new Command("status", "Live view of a distributed run: each role's health, rates, replay fill, staleness, rate limiter, workers.")
        {
            gateway, run, interval, once,
        };
        command.SetAction(async (parse, ct) =>
        {
            var (source, endpoints) = (parse.GetValue(gateway), parse.GetValue(run)) switch
            {
                ({ } g, null) => ($"gateway {g}", RoleEndpoints.ForOneRole("gateway", g)),
                (null, { } r) => ($"run {Path.GetFileName(Path.GetFullPath(r).TrimEnd('/'))}", RoleEndpoints.Read(r)),
                _ => throw new ArgumentException("Pass exactly one of --gateway http://HOST:PORT or --run runs/<id>."),
            };
            var every = parse.GetValue(interval);
            if (!(every >= 0.2)) throw new ArgumentException($"--interval must be at least 0.2 seconds (got {every}).");
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var probe = new RoleProbe(http);
            var lastSeen = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            bool terminal = !Console.IsOutputRedirected;
            while (true)
            {
                var readings = await Task.WhenAll(endpoints.Roles.Select(kv => probe.ReadAsync(kv.Key, kv.Value, ct)));
                foreach (var r in readings) if (r.Error is null) lastSeen[r.Role] = r.At;
                var screen = StatusScreen.Render(source, readings, lastSeen, DateTimeOffset.UtcNow, LastEvaluation(parse.GetValue(run)));
                // ESC[H ESC[2J: home and clear, so the screen refreshes in place instead of scrolling.
                Console.Write(terminal && !parse.GetValue(once) ? "\u001b[H\u001b[2J" + screen : screen + "\n");
                if (parse.GetValue(once)) return readings.Any(r => r.Error is null) ? 0 : 1;
                try { await Task.Delay(TimeSpan.FromSeconds(every), ct); }
                catch (OperationCanceledException) { return 0; }
            }
        });
        return command;
    }

    /// <summary>The run's last evaluation from metrics.jsonl (the learner's gauge cannot tell "none yet" from 0).</summary>
    private static string? LastEvaluation(string? run)
    {
        if (run is null || !File.Exists(Path.Combine(run, "metrics.jsonl"))) return null;
        try
        {
            var points = RunCurve.Read(run).Points;
            return points.Count == 0 ? "none yet"
                : string.Create(CultureInfo.InvariantCulture, $"{points[^1].Return:F1} at env step {points[^1].EnvSteps:N0} ({points.Count} evaluation(s) so far)");
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
