using System.Collections.Concurrent;
using DistSac.Replay;

namespace DistSac.Gateway;

/// <summary>
/// Which worker ids have called GetRunInfo. The truth lives in Redis (any gateway may have registered the worker);
/// ids seen once are cached here so the push path does not ask Redis again.
/// </summary>
public sealed class WorkerRegistry(ShardedReplay replay)
{
    // A run has tens to thousands of workers; the cap only guards against an endless stream of made-up ids.
    private const int MaxCached = 100_000;
    private readonly ConcurrentDictionary<string, bool> _known = new(StringComparer.Ordinal);

    public async Task RegisterAsync(string workerId, CancellationToken ct)
    {
        await replay.RegisterWorkerAsync(workerId, ct).ConfigureAwait(false);
        Remember(workerId);
    }

    public async ValueTask<bool> IsKnownAsync(string workerId, CancellationToken ct)
    {
        if (_known.ContainsKey(workerId)) return true;
        if (!await replay.IsWorkerKnownAsync(workerId, ct).ConfigureAwait(false)) return false;
        Remember(workerId);
        return true;
    }

    private void Remember(string workerId)
    {
        if (_known.Count >= MaxCached) _known.Clear();
        _known.TryAdd(workerId, true);
    }
}
