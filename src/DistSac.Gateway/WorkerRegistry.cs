using System.Collections.Concurrent;
using DistSac.Replay;

namespace DistSac.Gateway;

/// <summary>
/// Which worker ids have called GetRunInfo, and the latest incarnation issued to each. The truth lives in Redis (any
/// gateway may have registered the worker; every shard that answered keeps a copy); what was seen is cached here, so
/// the push path asks Redis again only for an incarnation newer than any this gateway has seen.
/// </summary>
public sealed class WorkerRegistry(ShardedReplay replay)
{
    // A run has tens to thousands of workers; the cap only guards against an endless stream of made-up ids.
    private const int MaxCached = 100_000;
    private readonly ConcurrentDictionary<string, long> _latest = new(StringComparer.Ordinal);

    /// <summary>Registers the worker and returns the incarnation issued for this start of it.</summary>
    public async Task<long> RegisterAsync(string workerId, CancellationToken ct)
    {
        long incarnation = await replay.RegisterWorkerAsync(workerId, ct).ConfigureAwait(false);
        Remember(workerId, incarnation);
        return incarnation;
    }

    /// <summary>Null when the worker registered and was issued <paramref name="incarnation"/>; else what is wrong.</summary>
    public async ValueTask<string?> CheckAsync(string workerId, long incarnation, CancellationToken ct)
    {
        if (_latest.TryGetValue(workerId, out long known) && incarnation <= known) return null;
        var issued = await replay.ReadIssuedIncarnationAsync(workerId, ct).ConfigureAwait(false);
        long latest = issued.Latest;
        // A shard that does not answer may have issued it (the others were unreachable then): refuse only what every
        // shard can vouch was never issued, so a shard outage never stops a worker that registered correctly.
        if (!issued.Complete && incarnation > latest) return null;
        if (latest == 0)
            return $"unknown worker '{workerId}': call GetRunInfo first (it registers the worker), then push with its incarnation.";
        Remember(workerId, latest);
        if (incarnation > latest)
            return $"incarnation {incarnation} was never issued to worker '{workerId}' (the latest is {latest}); push with RunInfo.incarnation from this process's GetRunInfo.";
        return null;
    }

    private void Remember(string workerId, long incarnation)
    {
        if (_latest.Count >= MaxCached) _latest.Clear();
        _latest.AddOrUpdate(workerId, static (_, issued) => issued, static (_, old, issued) => Math.Max(old, issued), incarnation);
    }
}
