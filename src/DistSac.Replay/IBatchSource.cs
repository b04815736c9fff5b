namespace DistSac.Replay;

/// <summary>Where the learner takes its sampled batches from: Redis through a <see cref="ReplayPrefetcher"/>, or its <see cref="ReplayMirror"/>.</summary>
public interface IBatchSource : IAsyncDisposable
{
    int BatchSize { get; }

    /// <summary>The next batch; the caller must <see cref="Return"/> it when done.</summary>
    ValueTask<PrefetchedBatch> NextAsync(CancellationToken ct);

    /// <summary>Hands a batch's buffer back to the source's pool.</summary>
    void Return(PrefetchedBatch batch);
}
