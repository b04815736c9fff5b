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

public sealed record RunLookup(RunLookupStatus Status, ReplayMetadata? Metadata, string? Error)
{
    public TransitionRecord Schema => new(Metadata!.ObservationSize, Metadata.ActionSize);
}

/// <summary>What a worker gets from GetRunInfo: the run's metadata and how much has been collected so far.</summary>
public sealed record RunDescription(ReplayMetadata Metadata, long TotalInserted);

/// <summary>
/// Reads the run's metadata (written once by the learner) and checks this gateway can serve it. A found, compatible
/// reading is cached for the push path: the metadata of a run never changes.
/// </summary>
public sealed class RunInfoProvider(ShardedReplay replay, ReplayOptions replayOptions, WorkerRegistry workers, ReplayProgressMonitor progress)
{
    private static readonly TimeSpan ProgressMaxAge = TimeSpan.FromMilliseconds(100);
    private volatile RunLookup? _found;

    /// <summary>The cached metadata when already found, else one read from Redis.</summary>
    public ValueTask<RunLookup> GetAsync(CancellationToken ct) =>
        _found is { } found ? ValueTask.FromResult(found) : new ValueTask<RunLookup>(ReadAsync(ct));

    /// <summary>GetRunInfo: re-reads the metadata, registers the worker and reports the run-wide transition count.</summary>
    public async Task<(RunLookup Lookup, RunDescription? Description)> DescribeForWorkerAsync(string workerId, CancellationToken ct)
    {
        var lookup = await ReadAsync(ct).ConfigureAwait(false);
        if (lookup.Status != RunLookupStatus.Found) return (lookup, null);
        await workers.RegisterAsync(workerId, ct).ConfigureAwait(false);
        var now = await progress.GetAsync(ProgressMaxAge, ct).ConfigureAwait(false);
        return (lookup, new RunDescription(lookup.Metadata!, now.TotalInserted));
    }

    private async Task<RunLookup> ReadAsync(CancellationToken ct)
    {
        RunLookup lookup;
        try
        {
            lookup = Check(await replay.ReadMetadataAsync(ct).ConfigureAwait(false), replayOptions);
        }
        catch (Exception e) when (e is ReplaySchemaMismatchException or ArgumentException)
        {
            // ShardedReplay checks the stored metadata against its connection (run id, shard count, sizes).
            return new RunLookup(RunLookupStatus.Incompatible, null, $"run '{replayOptions.RunId}' metadata cannot be served by this gateway: {e.Message}");
        }
        if (lookup.Status == RunLookupStatus.Found) _found = lookup;
        return lookup;
    }

    public static RunLookup Check(ReplayMetadata? metadata, ReplayOptions replayOptions)
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
        return new RunLookup(RunLookupStatus.Found, metadata, null);
    }
}
