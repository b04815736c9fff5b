using DistSac.Envs;
using DistSac.Protocol;
using DistSac.Replay;

namespace DistSac.Gateway;

public enum RunLookupStatus
{
    Found,
    /// <summary>No metadata yet: the learner writes it at start, so workers wait and retry.</summary>
    NotFound,
    /// <summary>Metadata this gateway cannot serve (other shard count, record layout it does not know).</summary>
    Incompatible,
}

/// <param name="Bounds">What every pushed record is checked against (set when Found): the environment's spaces.</param>
public sealed record RunLookup(RunLookupStatus Status, ReplayMetadata? Metadata, string? Error, RecordBounds? Bounds = null)
{
    public TransitionRecord Schema => new(Metadata!.ObservationSize, Metadata.ActionSize);
}

/// <summary>What a worker gets from GetRunInfo: the run's metadata, how much has been collected so far, and its new incarnation.</summary>
public sealed record RunDescription(ReplayMetadata Metadata, long TotalInserted, long Incarnation);

/// <summary>
/// Reads the run's metadata (written once by the learner) and checks this gateway can serve it, including that it knows
/// the run's environment (its spaces bound every pushed value). A found, compatible reading, with its record bounds, is
/// cached for the push path: the metadata of a run never changes.
/// </summary>
public sealed class RunInfoProvider(
    ShardedReplay replay, ReplayOptions replayOptions, GatewayOptions gatewayOptions, WorkerRegistry workers, ReplayProgressMonitor progress)
{
    private static readonly TimeSpan ProgressMaxAge = TimeSpan.FromMilliseconds(100);
    private volatile RunLookup? _found;

    /// <summary>The cached metadata when already found, else one read from Redis.</summary>
    public ValueTask<RunLookup> GetAsync(CancellationToken ct) =>
        _found is { } found ? ValueTask.FromResult(found) : new ValueTask<RunLookup>(ReadAsync(ct));

    /// <summary>GetRunInfo: re-reads the metadata, registers the worker (issuing its incarnation) and reports the run-wide transition count.</summary>
    public async Task<(RunLookup Lookup, RunDescription? Description)> DescribeForWorkerAsync(string workerId, CancellationToken ct)
    {
        var lookup = await ReadAsync(ct).ConfigureAwait(false);
        if (lookup.Status != RunLookupStatus.Found) return (lookup, null);
        long incarnation = await workers.RegisterAsync(workerId, ct).ConfigureAwait(false);
        var now = await progress.GetAsync(ProgressMaxAge, ct).ConfigureAwait(false);
        return (lookup, new RunDescription(lookup.Metadata!, now.TotalInserted, incarnation));
    }

    private async Task<RunLookup> ReadAsync(CancellationToken ct)
    {
        RunLookup lookup;
        try
        {
            lookup = Check(await replay.ReadMetadataAsync(ct).ConfigureAwait(false), replayOptions, gatewayOptions.MaxAbsValue);
        }
        catch (Exception e) when (e is ReplaySchemaMismatchException or ArgumentException)
        {
            // ShardedReplay checks the stored metadata against its connection (run id, shard count, sizes).
            return new RunLookup(RunLookupStatus.Incompatible, null, $"run '{replayOptions.RunId}' metadata cannot be served by this gateway: {e.Message}");
        }
        if (lookup.Status == RunLookupStatus.Found) _found = lookup;
        return lookup;
    }

    public static RunLookup Check(ReplayMetadata? metadata, ReplayOptions replayOptions, double maxAbsValue)
    {
        if (metadata is null)
            return new RunLookup(RunLookupStatus.NotFound, null,
                $"run metadata not found for run '{replayOptions.RunId}': start the learner first (workers retry until it is there).");
        if (metadata.SchemaVersion != ReplayLimits.SchemaVersion)
            return new RunLookup(RunLookupStatus.Incompatible, metadata,
                $"run '{metadata.RunId}' uses record schema version {metadata.SchemaVersion} but this gateway knows version {ReplayLimits.SchemaVersion}; run the same DistSac version everywhere.");
        if (metadata.ShardCount != replayOptions.Shards.Length)
            return new RunLookup(RunLookupStatus.Incompatible, metadata,
                $"run '{metadata.RunId}' was created with {metadata.ShardCount} shards but this gateway is configured with {replayOptions.Shards.Length} (Replay:Shards); give every role the same shard list.");
        if (metadata.ObservationSize < 1 || metadata.ActionSize < 1)
            return new RunLookup(RunLookupStatus.Incompatible, metadata,
                $"run '{metadata.RunId}' metadata has observation_size {metadata.ObservationSize} and action_size {metadata.ActionSize}; both must be >= 1.");
        int expected = ProtocolLimits.RecordBytes(metadata.ObservationSize, metadata.ActionSize);
        if (metadata.RecordBytes != expected)
            return new RunLookup(RunLookupStatus.Incompatible, metadata,
                $"run '{metadata.RunId}' metadata says record_bytes {metadata.RecordBytes}, but this gateway packs {expected} bytes for observation_size {metadata.ObservationSize} and action_size {metadata.ActionSize}; gateway and learner versions differ.");
        return CheckEnvironment(metadata, maxAbsValue);
    }

    /// <summary>
    /// Strict on purpose: a gateway that does not know the run's environment cannot bound its values, and an unchecked
    /// value can stop the learner, so such a run is refused (GetRunInfo and Push answer FailedPrecondition) rather than served.
    /// </summary>
    private static RunLookup CheckEnvironment(ReplayMetadata metadata, double maxAbsValue)
    {
        EnvSpec spec;
        try
        {
            spec = EnvironmentRegistry.GetSpec(metadata.EnvId);
        }
        catch (UnknownEnvironmentException)
        {
            return new RunLookup(RunLookupStatus.Incompatible, metadata,
                $"run '{metadata.RunId}' uses environment '{metadata.EnvId}', which this gateway does not know (it knows {string.Join(", ", EnvironmentRegistry.Ids)}), " +
                "so it cannot check pushed values against the environment's spaces and refuses the run; run the same DistSac version on every role.");
        }
        if (spec.ObservationSize != metadata.ObservationSize || spec.ActionSize != metadata.ActionSize)
            return new RunLookup(RunLookupStatus.Incompatible, metadata,
                $"run '{metadata.RunId}' says {spec.Id} has observation_size {metadata.ObservationSize} and action_size {metadata.ActionSize}, " +
                $"but this gateway's {spec.Id} has {spec.ObservationSize} and {spec.ActionSize}; run the same DistSac version on every role.");
        return new RunLookup(RunLookupStatus.Found, metadata, null, EnvironmentBounds.For(spec, maxAbsValue));
    }
}
