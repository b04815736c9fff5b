using DistSac.Local;
using DistSac.Observability;

namespace DistSac.Cli.Status;

/// <summary>One reading of a role: liveness, readiness and its Prometheus series, or why it did not answer.</summary>
public sealed record RoleReading(string Role, RoleEndpoint Endpoint, bool Alive, bool Ready, IReadOnlyDictionary<string, double> Metrics, string? Error, DateTimeOffset At)
{
    public double Get(string series) => Metrics.TryGetValue(series, out var v) ? v : double.NaN;

    /// <summary>Series of one metric by the value of its one label: distsac_replay_fill{shard="0"} -> ("0", v).</summary>
    public List<(string Label, double Value)> ByLabel(string metric)
    {
        var found = new List<(string, double)>();
        foreach (var (series, value) in Metrics)
        {
            if (!series.StartsWith(metric + "{", StringComparison.Ordinal)) continue;
            int quote = series.IndexOf('"', StringComparison.Ordinal), end = series.LastIndexOf('"');
            if (quote >= 0 && end > quote) found.Add((series[(quote + 1)..end], value));
        }
        found.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        return found;
    }
}

/// <summary>Reads /healthz, /readyz and /metrics of a role (2 s each); an unreachable role is a reading with its error.</summary>
public sealed class RoleProbe(HttpClient http)
{
    public async Task<RoleReading> ReadAsync(string role, RoleEndpoint endpoint, CancellationToken ct)
    {
        try
        {
            using var healthz = await http.GetAsync(endpoint.Url + "/healthz", ct);
            using var readyz = await http.GetAsync(endpoint.Url + "/readyz", ct);
            var metrics = PrometheusText.Parse(await http.GetStringAsync(endpoint.Url + "/metrics", ct));
            return new RoleReading(role, endpoint, healthz.IsSuccessStatusCode, readyz.IsSuccessStatusCode, metrics, null, DateTimeOffset.UtcNow);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            var why = e is TaskCanceledException ? "no answer within 2 s" : e.InnerException?.Message ?? e.Message;
            return new RoleReading(role, endpoint, false, false, new Dictionary<string, double>(), why, DateTimeOffset.UtcNow);
        }
    }
}
