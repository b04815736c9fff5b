using DistSac.Replay;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DistSac.Gateway;

/// <summary>What one probe of the shards found.</summary>
public enum GatewayReadinessState
{
    /// <summary>No shard answered in time (Redis down, network split).</summary>
    RedisUnreachable,
    /// <summary>Shards answered but none holds the run metadata, or it cannot be served (learner not started yet).</summary>
    RunNotReadable,
    /// <summary>A shard answered with the run metadata: pushes can be served (into the shards that are up).</summary>
    Serving,
}

/// <summary>
/// Probes Redis by reading the run metadata from the lowest shard that holds it (every shard keeps a copy) under a short
/// timeout, so a probe never hangs on a dead shard: not ready only when no shard that answers has it. Feeds /readyz and
/// the gRPC health service (SERVING only when the run can be served).
/// </summary>
public sealed class GatewayReadiness(ShardedReplay replay) : IHealthCheck
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    public async Task<GatewayReadinessState> ProbeAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            var metadata = await replay.ReadMetadataAsync(timeout.Token).ConfigureAwait(false);
            return metadata is null ? GatewayReadinessState.RunNotReadable : GatewayReadinessState.Serving;
        }
        catch (Exception e) when (e is ReplaySchemaMismatchException or ArgumentException)
        {
            return GatewayReadinessState.RunNotReadable;
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // Any Redis failure (connection, timeout) means not ready; the probe reports it rather than throwing.
            return GatewayReadinessState.RedisUnreachable;
        }
    }

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var state = await ProbeAsync(cancellationToken).ConfigureAwait(false);
        return state switch
        {
            GatewayReadinessState.Serving => HealthCheckResult.Healthy("Redis connected, run metadata readable"),
            GatewayReadinessState.RunNotReadable => HealthCheckResult.Unhealthy("Redis connected, run metadata not readable (learner not started?)"),
            _ => HealthCheckResult.Unhealthy("Redis unreachable"),
        };
    }
}
