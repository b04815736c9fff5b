using DistSac.Learning.Networks;
using DistSac.Learning.Training;

namespace DistSac.Learner;

/// <summary>
/// Sends actor weights without holding the update loop. The loop's part is a host copy of the actor (one memcpy per
/// layer, between two updates); the serialization (with its CRC over ~270 KB) and the sending (for the learner: HSET
/// and PUBLISH of the weights, then of its progress, four Redis round trips) run on the thread pool while the next
/// updates run. Measured inside `distsac local`, those round trips held the loop ~4-9 ms per publish, i.e. 3-7% of
/// its wall time, with both update streams idle (docs/benchmarks.md, issue 11 goal 1).
/// <para>
/// One send at a time, in version order: <see cref="StartAsync"/> first waits for the previous send and rethrows its
/// failure. The serialized bytes go into one buffer reused from send to send (a fresh one after a failed send, whose
/// bytes the Redis client may still hold), so a publish puts nothing on the large-object heap.
/// </para>
/// </summary>
public sealed class WeightsPublisher
{
    private readonly ActorHostCopy _copy;
    private byte[] _buffer = [];
    private Task _sending = Task.CompletedTask;

    public WeightsPublisher(SquashedGaussianActor actor) => _copy = new ActorHostCopy(actor);

    /// <summary>The version of the last send started (-1 before the first), for the log.</summary>
    public long LastVersion { get; private set; } = -1;

    /// <summary>
    /// True once the last send has failed and no one has taken its failure yet (<see cref="WaitAsync"/>): a cheap check
    /// that lets the update loop end the run at its next iteration instead of its next publish.
    /// </summary>
    public bool SendFailed => _sending.IsFaulted;

    /// <summary>Waits for the send in flight, if any, and rethrows its failure (once: the next send starts afresh).</summary>
    public Task WaitAsync()
    {
        var sending = _sending;
        _sending = Task.CompletedTask;
        return sending;
    }

    /// <summary>
    /// Waits for the previous send, copies the actor's parameters now, then starts serializing and sending them as
    /// version <paramref name="version"/> in the background (<see cref="WaitAsync"/>); <paramref name="send"/> gets the
    /// serialized bytes, valid until it completes.
    /// </summary>
    public async Task StartAsync(SquashedGaussianActor actor, long version, Func<ReadOnlyMemory<byte>, CancellationToken, Task> send, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(send);
        await WaitAsync();
        _copy.CopyFrom(actor);
        LastVersion = version;
        _sending = Task.Run(() => SendAsync(version, send, ct), CancellationToken.None);
    }

    private async Task SendAsync(long version, Func<ReadOnlyMemory<byte>, CancellationToken, Task> send, CancellationToken ct)
    {
        var weights = _copy.ToWeights(version);
        int length = weights.SerializedLength;
        if (_buffer.Length != length) _buffer = GC.AllocateUninitializedArray<byte>(length);
        weights.WriteTo(_buffer);
        try
        {
            await send(_buffer.AsMemory(0, length), ct).ConfigureAwait(false);
        }
        catch
        {
            _buffer = [];
            throw;
        }
    }
}
