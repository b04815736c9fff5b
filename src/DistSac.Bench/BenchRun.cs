using DistSac.Envs;
using DistSac.Processes;
using DistSac.Protocol;
using DistSac.Replay;

namespace DistSac.Bench;

/// <summary>The replay run a benchmark plays the learner of: a fresh Pendulum-v1 run id over the given shards.</summary>
public static class BenchRun
{
    /// <param name="prefix">Start of the run id (a random suffix follows).</param>
    /// <param name="servers">The shards.</param>
    /// <param name="capacity">Records per shard.</param>
    /// <param name="ct">Ctrl-C.</param>
    /// <param name="rateLimit">The contract a learner would write into the run metadata, which the gateway enforces; null: none (pushes never held).</param>
    public static async Task<ShardedReplay> CreateAsync(string prefix, IReadOnlyList<RedisLauncher.Server> servers, long capacity, CancellationToken ct,
        RateLimitContract? rateLimit = null)
    {
        var spec = EnvironmentRegistry.GetSpec("Pendulum-v1");
        var options = new ReplayOptions { RunId = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)], Shards = [.. servers.Select(x => x.Endpoint)], CapacityPerShard = capacity };
        var replay = await ShardedReplay.ConnectAsync(options, logger: null, ct);
        try
        {
            await replay.InitializeRunAsync(new ReplayMetadata(options.RunId, spec.Id, spec.ObservationSize, spec.ActionSize,
                ProtocolLimits.RecordBytes(spec.ObservationSize, spec.ActionSize), Seed: 0, WarmupTransitions: 0, capacity, servers.Count,
                ReplayLimits.SchemaVersion, rateLimit), ct);
            return replay;
        }
        catch
        {
            await replay.DisposeAsync();
            throw;
        }
    }
}
