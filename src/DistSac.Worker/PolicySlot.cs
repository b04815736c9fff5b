using DistSac.Policy;

namespace DistSac.Worker;

/// <summary>
/// What the rollout loop needs to choose between random and learned actions, shared across threads: the latest
/// actor (published by the weights stream) and the run-wide count of stored transitions (from the gateway's
/// acknowledgements). The loop reads both once per vector step; writers publish whole objects, never mutate them.
/// </summary>
public sealed class PolicySlot
{
    private ActorNetwork? _actor;
    private long _totalInserted;

    public PolicySlot(long warmupTransitions, long totalInserted = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmupTransitions);
        WarmupTransitions = warmupTransitions;
        _totalInserted = totalInserted;
    }

    /// <summary>Run-wide transitions to collect with uniform-random actions before the actor takes over.</summary>
    public long WarmupTransitions { get; }

    /// <summary>The newest actor, or null before the first weights arrived.</summary>
    public ActorNetwork? Actor => Volatile.Read(ref _actor);

    public long TotalInserted => Volatile.Read(ref _totalInserted);

    /// <summary>The actor to act with now: null while none has arrived or the run is still warming up.</summary>
    public ActorNetwork? ActingActor => TotalInserted >= WarmupTransitions ? Actor : null;

    /// <summary>Hands a new actor to the loop. The network must not be used by the caller afterwards (it is not thread-safe).</summary>
    public void Publish(ActorNetwork actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        Volatile.Write(ref _actor, actor);
    }

    /// <summary>Records a gateway's view of the run-wide count; acknowledgements may arrive out of order, so it only grows.</summary>
    public void ObserveTotalInserted(long total)
    {
        long seen = Volatile.Read(ref _totalInserted);
        while (total > seen)
        {
            long previous = Interlocked.CompareExchange(ref _totalInserted, total, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}
