using Microsoft.AspNetCore.Http;
using Prometheus;

namespace DistSac.Gateway;

/// <summary>
/// Serves the HTTP/1.1 probe endpoint (Gateway:HttpListen): /healthz (process alive), /readyz (Redis reachable) and
/// /metrics (Prometheus text). The gRPC endpoint is HTTP/2 only, so every HTTP/1.x request arrives here.
/// </summary>
public sealed class GatewayProbeEndpoint(GatewayReadiness readiness, GatewayMetrics metrics)
{
    public static bool Accepts(HttpContext context) => !HttpProtocol.IsHttp2(context.Request.Protocol);

    public async Task HandleAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var response = context.Response;
        switch (context.Request.Path.Value)
        {
            case "/healthz":
                await WriteTextAsync(response, StatusCodes.Status200OK, "ok\n", ct).ConfigureAwait(false);
                break;
            case "/readyz":
                var state = await readiness.ProbeAsync(ct).ConfigureAwait(false);
                // Ready only when a push could be stored: a shard answers with the run metadata (the learner writes it to
                // every shard at start and re-creates it on a shard that comes back empty).
                var (status, text) = state switch
                {
                    GatewayReadinessState.Serving => (StatusCodes.Status200OK, "ready\n"),
                    GatewayReadinessState.RunNotReadable => (StatusCodes.Status503ServiceUnavailable, "run metadata missing or unreadable on every shard that answers (learner not started, or the shards restarted empty)\n"),
                    _ => (StatusCodes.Status503ServiceUnavailable, "redis unreachable\n"),
                };
                await WriteTextAsync(response, status, text, ct).ConfigureAwait(false);
                break;
            case "/metrics":
                response.StatusCode = StatusCodes.Status200OK;
                response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await metrics.Registry.CollectAndExportAsTextAsync(response.Body, ct).ConfigureAwait(false);
                break;
            default:
                await WriteTextAsync(response, StatusCodes.Status404NotFound, "not found: use /healthz, /readyz or /metrics\n", ct).ConfigureAwait(false);
                break;
        }
    }

    private static Task WriteTextAsync(HttpResponse response, int status, string text, CancellationToken ct)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(text, ct);
    }
}
