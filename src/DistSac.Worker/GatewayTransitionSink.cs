using DistSac.Protocol.V1;
using Google.Protobuf;

namespace DistSac.Worker;

/// <summary>
/// Pushes batches to the gateway with at most one push in flight, so the environments keep stepping into the
/// second batch while the first travels, and a gateway holding acknowledgements back stops the worker after one
/// batch of lead. Sequence numbers go 0, 1, 2, ... in hand-off order under this start's incarnation, each push is
/// retried until acknowledged before the next one goes out, so the gateway never sees a gap; the batch bytes are
/// sent without a copy and the batch is reused only after its acknowledgement.
/// </summary>
public sealed class GatewayTransitionSink : ITransitionSink
{
    private readonly BatchPusher _pusher;
    private readonly string _workerId;
    private readonly long _incarnation;
    private readonly CancellationToken _pushLifetime;
    private TransitionBatch? _spare;
    private TransitionBatch? _inFlightBatch;
    private Task? _inFlight;

    /// <param name="incarnation">RunInfo.incarnation of this worker start; every push carries it.</param>
    /// <param name="spare">The second batch, filled while the first is in flight.</param>
    /// <param name="pushLifetime">Ends retrying of handed-off batches (the shutdown deadline).</param>
    public GatewayTransitionSink(BatchPusher pusher, string workerId, long incarnation, TransitionBatch spare, CancellationToken pushLifetime)
    {
        ArgumentNullException.ThrowIfNull(pusher);
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        ArgumentOutOfRangeException.ThrowIfLessThan(incarnation, 1);
        ArgumentNullException.ThrowIfNull(spare);
        _pusher = pusher;
        _workerId = workerId;
        _incarnation = incarnation;
        _spare = spare;
        _pushLifetime = pushLifetime;
    }

    /// <summary>The sequence number the next handed-off batch will carry.</summary>
    public long NextSequence { get; private set; }

    public async ValueTask<TransitionBatch> HandOffAsync(TransitionBatch full, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(full);
        if (full.IsEmpty)
        {
            return full;
        }

        TransitionBatch next;
        if (_inFlight is not null)
        {
            await _inFlight.WaitAsync(cancellationToken);
            next = _inFlightBatch!;
            _inFlight = null;
            _inFlightBatch = null;
        }
        else
        {
            next = _spare ?? throw new InvalidOperationException("The sink has no free batch; hand back the batch it returned.");
            _spare = null;
        }

        next.Clear();
        var request = new PushRequest
        {
            WorkerId = _workerId,
            Incarnation = _incarnation,
            Sequence = NextSequence++,
            TransitionCount = full.Count,
            Records = UnsafeByteOperations.UnsafeWrap(full.Records),
        };
        _inFlightBatch = full;
        _inFlight = _pusher.PushAsync(request, _pushLifetime);
        return next;
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_inFlight is null)
        {
            return;
        }

        await _inFlight.WaitAsync(cancellationToken);
        _spare = _inFlightBatch;
        _inFlight = null;
        _inFlightBatch = null;
    }

    /// <summary>Waits for a push still running (after its lifetime ended) so its bytes can be reused safely.</summary>
    public async ValueTask DrainAsync()
    {
        if (_inFlight is not null)
        {
            try
            {
                await _inFlight;
            }
            catch (Exception e) when (e is OperationCanceledException or WorkerFatalException)
            {
                // Already reported through HandOffAsync/FlushAsync, or abandoned at the shutdown deadline.
            }
        }
    }
}
