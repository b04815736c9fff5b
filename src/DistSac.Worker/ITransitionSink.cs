namespace DistSac.Worker;

/// <summary>Where the rollout loop delivers full batches: the gateway, or nothing at all in the benchmark.</summary>
public interface ITransitionSink
{
    /// <summary>
    /// Takes ownership of <paramref name="full"/> and returns an empty batch to fill next. May wait while earlier
    /// batches are unacknowledged: that wait is the worker's back-pressure. If cancelled, <paramref name="full"/>
    /// was not taken and still belongs to the caller.
    /// </summary>
    ValueTask<TransitionBatch> HandOffAsync(TransitionBatch full, CancellationToken cancellationToken);

    /// <summary>Waits until every batch handed off so far is acknowledged.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);
}

/// <summary>Drops every batch at once: measures the rollout loop without the network.</summary>
public sealed class DiscardingTransitionSink : ITransitionSink
{
    public long Batches { get; private set; }

    public long Transitions { get; private set; }

    public ValueTask<TransitionBatch> HandOffAsync(TransitionBatch full, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(full);
        Batches++;
        Transitions += full.Count;
        full.Clear();
        return ValueTask.FromResult(full);
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
