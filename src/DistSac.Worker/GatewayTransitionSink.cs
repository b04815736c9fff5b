using System.Diagnostics;
using DistSac.Protocol.V1;
using Google.Protobuf;

namespace DistSac.Worker;

/// <summary>
/// Pushes batches to the gateway on one lane per replay shard (PushRequest.shard), at most one batch pending per lane,
/// so the environments keep stepping while batches travel, a gateway holding acknowledgements back stops the worker
/// after S batches of lead, and a shard that is down stops only its own lane. Each lane numbers its batches 0, 1, 2,
/// ... and retries a batch on that lane until acknowledged, so the gateway never sees a gap. A new batch goes to the
/// next lane (round robin) that is free and not marked down. A batch the gateway certainly did not store (its shard
/// was down: <see cref="PushDelivery.NotStored"/>) gives its sequence back and goes to another lane; a batch that
/// may have been stored stays on its lane. The batch bytes are sent without a copy and a batch is reused only after
/// its acknowledgement.
/// </summary>
/// <remarks>
/// Not thread-safe: <see cref="HandOffAsync"/> and <see cref="FlushAsync"/> are called by the one rollout driver, then
/// <see cref="DrainAsync"/> once it stopped. Pushes run concurrently but never touch the sink's state; the driver
/// collects their outcomes.
/// </remarks>
public sealed class GatewayTransitionSink : ITransitionSink
{
    private readonly BatchPusher _pusher;
    private readonly string _workerId;
    private readonly long _incarnation;
    private readonly bool _explicitLanes;
    private readonly PushLane[] _lanes;
    private readonly Stack<TransitionBatch> _spares;
    private readonly Queue<TransitionBatch> _unbound; // certainly not stored, waiting for a lane (oldest first)
    private readonly CancellationToken _pushLifetime;
    private int _nextLane;

    /// <param name="incarnation">RunInfo.incarnation of this worker start; every push carries it.</param>
    /// <param name="shardCount">
    /// RunInfo.shard_count: one explicit lane per shard. 0 (a gateway older than explicit lanes): one lane without a
    /// shard field, which the gateway routes to shard sequence mod S.
    /// </param>
    /// <param name="spares"><see cref="LaneCount"/> batches, filled while others are pending.</param>
    /// <param name="pushLifetime">Ends retrying of handed-off batches (the shutdown deadline).</param>
    public GatewayTransitionSink(BatchPusher pusher, string workerId, long incarnation, int shardCount, IReadOnlyList<TransitionBatch> spares,
        CancellationToken pushLifetime)
    {
        ArgumentNullException.ThrowIfNull(pusher);
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        ArgumentOutOfRangeException.ThrowIfLessThan(incarnation, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(shardCount);
        ArgumentNullException.ThrowIfNull(spares);
        int lanes = LaneCount(shardCount);
        if (spares.Count != lanes)
        {
            throw new ArgumentException($"{lanes} lane(s) need {lanes} spare batch(es), one per batch that may be pending; got {spares.Count}.", nameof(spares));
        }

        _pusher = pusher;
        _workerId = workerId;
        _incarnation = incarnation;
        _explicitLanes = shardCount > 0;
        _lanes = new PushLane[lanes];
        for (int i = 0; i < lanes; i++)
        {
            _lanes[i] = new PushLane(i);
        }

        _spares = new Stack<TransitionBatch>(lanes + 1);
        _unbound = new Queue<TransitionBatch>(lanes + 1);
        foreach (var spare in spares)
        {
            _spares.Push(spare ?? throw new ArgumentException("a spare batch is null.", nameof(spares)));
        }

        _pushLifetime = pushLifetime;
    }

    /// <summary>Lanes (and batches that may be pending at once) for a run of <paramref name="shardCount"/> shards.</summary>
    public static int LaneCount(int shardCount) => Math.Max(1, shardCount);

    /// <summary>Sequences used, summed over lanes: batches bound to a lane (a given-back sequence is not counted).</summary>
    public long BatchesSent
    {
        get
        {
            long sum = 0;
            foreach (var lane in _lanes)
            {
                sum += lane.NextSequence;
            }

            return sum;
        }
    }

    public async ValueTask<TransitionBatch> HandOffAsync(TransitionBatch full, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(full);
        if (full.IsEmpty)
        {
            return full;
        }

        while (true)
        {
            Settle();
            // Batches given back by a down shard go first; the new one is taken only when a lane takes it at once, so
            // a cancelled wait leaves it with the caller.
            if (_unbound.Count == 0 && TryTakeLane(out var lane))
            {
                Start(lane, full);
                var next = _spares.Pop(); // one is free: S + 1 batches, at most S pending, none unbound
                next.Clear();
                return next;
            }

            await WaitForLaneAsync(cancellationToken);
        }
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Settle();
            if (_unbound.Count == 0 && AllFree())
            {
                return;
            }

            await WaitForLaneAsync(cancellationToken);
        }
    }

    /// <summary>Waits for pushes still running (after their lifetime ended) so their bytes can be reused safely.</summary>
    public async ValueTask DrainAsync()
    {
        foreach (var lane in _lanes)
        {
            if (lane.Pending is { } pending)
            {
                try
                {
                    await pending;
                }
                catch (Exception e) when (e is OperationCanceledException or WorkerFatalException)
                {
                    // Already reported through HandOffAsync/FlushAsync, or abandoned at the shutdown deadline.
                }
            }
        }
    }

    /// <summary>Collects finished pushes (acknowledged batches become spares, not-stored ones wait for a lane), then binds waiting batches.</summary>
    private void Settle()
    {
        long now = Stopwatch.GetTimestamp();
        foreach (var lane in _lanes)
        {
            if (lane.Pending is not { IsCompleted: true } done)
            {
                continue;
            }

            PushDelivery delivery;
            try
            {
                delivery = done.GetAwaiter().GetResult();
            }
            catch
            {
                lane.Abandon(); // fatal rejection or the shutdown deadline: the worker stops
                throw;
            }

            if (delivery == PushDelivery.Acknowledged)
            {
                _spares.Push(lane.Acknowledged());
            }
            else
            {
                _unbound.Enqueue(lane.NotStored(now));
            }
        }

        while (_unbound.Count > 0 && TryTakeLane(out var lane))
        {
            Start(lane, _unbound.Dequeue());
        }
    }

    /// <summary>The next lane, round robin, that has nothing pending and is not marked down.</summary>
    private bool TryTakeLane(out PushLane lane)
    {
        long now = Stopwatch.GetTimestamp();
        for (int i = 0; i < _lanes.Length; i++)
        {
            int index = (_nextLane + i) % _lanes.Length;
            if (_lanes[index].AcceptsAt(now))
            {
                _nextLane = (index + 1) % _lanes.Length;
                lane = _lanes[index];
                return true;
            }
        }

        lane = null!;
        return false;
    }

    private void Start(PushLane lane, TransitionBatch batch)
    {
        var request = new PushRequest
        {
            WorkerId = _workerId,
            Incarnation = _incarnation,
            Sequence = lane.Bind(batch),
            TransitionCount = batch.Count,
            Records = UnsafeByteOperations.UnsafeWrap(batch.Records),
        };
        if (_explicitLanes)
        {
            request.Shard = (uint)lane.Shard;
        }

        lane.Started(_pusher.PushAsync(request, _pushLifetime));
    }

    private bool AllFree()
    {
        foreach (var lane in _lanes)
        {
            if (!lane.IsFree)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Until something may free a lane: a pending push ends, or a down lane's back-off runs out.</summary>
    private async Task WaitForLaneAsync(CancellationToken cancellationToken)
    {
        long now = Stopwatch.GetTimestamp();
        long earliestUp = long.MaxValue;
        var waits = new List<Task>(_lanes.Length + 1);
        foreach (var lane in _lanes)
        {
            if (lane.Pending is { } pending)
            {
                waits.Add(pending);
            }
            else if (lane.DownUntil > now)
            {
                earliestUp = Math.Min(earliestUp, lane.DownUntil);
            }
        }

        if (earliestUp != long.MaxValue)
        {
            waits.Add(Task.Delay(Stopwatch.GetElapsedTime(now, earliestUp), cancellationToken));
        }

        if (waits.Count == 0)
        {
            return; // a lane is free and up already
        }

        await Task.WhenAny(waits).WaitAsync(cancellationToken);
    }
}
