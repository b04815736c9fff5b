using System.Globalization;
using System.Text;

namespace DistSac.Cli.Status;

/// <summary>
/// One screen of `distsac status` from the roles' readings: a row per role (health, uptime, its main rates), the
/// replay, staleness and rate-limiter lines from the learner (or the gateway when only it is known), and one row per
/// worker. Pure text: the command decides whether to clear the terminal first.
/// </summary>
public static class StatusScreen
{
    /// <param name="lastEvaluation">From the run's metrics.jsonl when known; else the learner's gauge is shown.</param>
    public static string Render(string source, IReadOnlyList<RoleReading> readings, IReadOnlyDictionary<string, DateTimeOffset> lastSeen, DateTimeOffset now,
        string? lastEvaluation = null)
    {
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"distsac status: {source} at {now:yyyy-MM-dd HH:mm:ss} UTC\n\n");
        s.Append(CultureInfo.InvariantCulture, $"{"ROLE",-12} {"HEALTH",-24} {"UPTIME",9}  DETAIL\n");
        RoleReading? learner = null, gateway = null;
        var workers = new List<RoleReading>();
        foreach (var r in readings)
        {
            if (r.Role == "learner") learner = r;
            else if (r.Role == "gateway") gateway = r;
            else if (r.Role.StartsWith("worker", StringComparison.Ordinal)) { workers.Add(r); continue; }
            s.Append(CultureInfo.InvariantCulture, $"{r.Role,-12} {Health(r),-24} {Uptime(r, now),9}  {Detail(r)}\n");
        }

        // The learner publishes shard fill at its log lines only; the gateway reads it at every scrape.
        var shards = learner?.ByLabel("distsac_replay_fill") is { Count: > 0 } fromLearner ? fromLearner : gateway?.ByLabel("distsac_replay_fill") ?? [];
        if (learner is { Error: null } || gateway is { Error: null })
        {
            s.Append("\nreplay fill  ");
            s.Append(shards.Count == 0 ? "-" : string.Join("   ", shards.Select(x => $"shard {x.Label}: {N(x.Value)}")));
            s.Append('\n');
        }
        if (learner is { Error: null })
        {
            s.Append(CultureInfo.InvariantCulture, $"staleness    mean {F(learner.Get("distsac_staleness_mean"))}  max {N(learner.Get("distsac_staleness_max"))} (updates between acting and training)\n");
            var waiting = learner.ByLabel("distsac_rate_limiter_waiting").Where(x => x.Value > 0).Select(x => x.Label).ToList();
            s.Append(CultureInfo.InvariantCulture,
                $"rate limiter learner {(waiting.Count == 0 ? "updating" : "waiting: " + string.Join(", ", waiting))} (waited {F(learner.Get("distsac_rate_limiter_wait_seconds_total"))} s in all)");
            if (gateway is { Error: null })
                s.Append(CultureInfo.InvariantCulture, $"; gateway holding {N(gateway.Get("distsac_rate_limiter_holding"))} push(es) (held {F(gateway.Get("distsac_rate_limiter_held_seconds_total"))} s in all)");
            s.Append('\n');
            // Without the run's metrics.jsonl only the gauge is known, and it reads 0 until the first evaluation.
            s.Append(CultureInfo.InvariantCulture, $"last eval    {lastEvaluation ?? F(learner.Get("distsac_eval_return")) + " (distsac_eval_return; 0 before the first evaluation)"}\n");
        }

        if (workers.Count > 0)
        {
            s.Append(CultureInfo.InvariantCulture, $"\n{"WORKER",-12} {"HEALTH",-24} {"UPTIME",9} {"STEPS/S",9} {"ENV STEPS",11} {"VERSION",8} {"RETRIES",8} {"EP RETURN",10} {"LAST SEEN",10}\n");
            foreach (var w in workers)
            {
                var seen = lastSeen.TryGetValue(w.Role, out var at) ? $"{(now - at).TotalSeconds:F0} s ago" : "never";
                s.Append(CultureInfo.InvariantCulture,
                    $"{w.Role,-12} {Health(w),-24} {Uptime(w, now),9} {N(w.Get("distsac_env_steps_per_second")),9} {N(w.Get("distsac_env_steps_total")),11} {N(w.Get("distsac_weights_version")),8} {N(w.Get("distsac_push_retries_total")),8} {F(w.Get("distsac_episode_return")),10} {seen,10}\n");
            }
        }
        return s.ToString();
    }

    private static string Health(RoleReading r) =>
        r.Error is not null ? "down: " + Short(r.Error) : r.Ready ? "healthy, ready" : r.Alive ? "healthy, not ready" : "unhealthy";

    private static string Uptime(RoleReading r, DateTimeOffset now)
    {
        if (r.Endpoint.Started == DateTimeOffset.MinValue || r.Error is not null) return "-";
        var t = now - r.Endpoint.Started;
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : $"{t.Minutes}m{t.Seconds:D2}s";
    }

    private static string Detail(RoleReading r)
    {
        if (r.Error is not null) return "";
        return r.Role switch
        {
            "learner" => $"{N(r.Get("distsac_updates_per_second"))} updates/s | {N(r.Get("distsac_env_steps_per_second"))} env steps/s | env steps {N(r.Get("distsac_env_steps"))} | updates {N(r.Get("distsac_updates_total"))} | weights v{N(r.Get("distsac_weights_version"))} | workers {N(r.Get("distsac_workers_active"))} active of {N(r.Get("distsac_workers_seen"))}",
            "gateway" => $"pushes {N(r.Get("distsac_gateway_pushes_total"))} | transitions stored {N(r.Get("distsac_transitions_pushed_total"))} | rejected {N(r.Get("distsac_transitions_rejected_total"))} | weights v{N(r.Get("distsac_weights_version"))} | weight streams {N(r.Get("distsac_weight_streams"))}",
            _ => $"{r.Metrics.Count} series",
        };
    }

    private static string Short(string error) => error.Length <= 18 ? error : error[..17] + "…";

    private static string N(double v) => double.IsNaN(v) ? "-" : v.ToString("N0", CultureInfo.InvariantCulture);

    private static string F(double v) => double.IsNaN(v) ? "-" : v.ToString("F1", CultureInfo.InvariantCulture);
}
