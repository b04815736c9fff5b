using System.Threading.Channels;

namespace DistSac.Gateway;

/// <summary>One published actor: its version and the DistSac.Policy ActorWeights bytes, shared read-only by every stream.</summary>
public sealed record WeightsSnapshot(long Version, byte[] Actor);

/// <summary>
/// Fans the latest actor weights out to every open WatchWeights stream. Each subscriber has a one-slot mailbox that
/// drops the older entry, so a slow stream only ever receives the newest version and never builds a backlog; the
/// publisher never waits on a reader.
/// </summary>
public sealed class WeightsFanOut
{
    private static readonly BoundedChannelOptions MailboxOptions = new(1)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
        SingleWriter = false,
        AllowSynchronousContinuations = false,
    };

    private readonly Lock _gate = new();
    private readonly HashSet<Channel<WeightsSnapshot>> _subscribers = [];
    private WeightsSnapshot? _latest;

    public WeightsSnapshot? Latest => Volatile.Read(ref _latest);

    /// <summary>-1 while no weights are known.</summary>
    public long LatestVersion => Latest?.Version ?? -1;

    public int SubscriberCount
    {
        get { lock (_gate) return _subscribers.Count; }
    }

    /// <summary>Makes <paramref name="weights"/> the latest and offers it to every subscriber; ignored unless newer.</summary>
    public bool Publish(WeightsSnapshot weights)
    {
        lock (_gate)
        {
            if (_latest is not null && weights.Version <= _latest.Version) return false;
            Volatile.Write(ref _latest, weights);
            foreach (var mailbox in _subscribers) mailbox.Writer.TryWrite(weights);
            return true;
        }
    }

    /// <summary>Opens a mailbox that already holds the latest weights (if any); dispose it when the stream ends.</summary>
    public WeightsSubscription Subscribe()
    {
        var mailbox = Channel.CreateBounded<WeightsSnapshot>(MailboxOptions);
        lock (_gate)
        {
            // Under the lock, so no publish can fall between "latest" and "registered".
            if (_latest is not null) mailbox.Writer.TryWrite(_latest);
            _subscribers.Add(mailbox);
        }
        return new WeightsSubscription(this, mailbox);
    }

    internal void Unsubscribe(Channel<WeightsSnapshot> mailbox)
    {
        lock (_gate) _subscribers.Remove(mailbox);
        mailbox.Writer.TryComplete();
    }
}

/// <summary>One stream's view of <see cref="WeightsFanOut"/>: read the newest weights as they come.</summary>
public sealed class WeightsSubscription : IDisposable
{
    private readonly WeightsFanOut _owner;
    private readonly Channel<WeightsSnapshot> _mailbox;
    private int _disposed;

    internal WeightsSubscription(WeightsFanOut owner, Channel<WeightsSnapshot> mailbox)
    {
        _owner = owner;
        _mailbox = mailbox;
    }

    /// <summary>The next weights newer than anything this mailbox handed out before, waiting if none; ends with cancellation.</summary>
    public ValueTask<WeightsSnapshot> NextAsync(CancellationToken ct) => _mailbox.Reader.ReadAsync(ct);

    public bool TryNext(out WeightsSnapshot? weights) => _mailbox.Reader.TryRead(out weights);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _owner.Unsubscribe(_mailbox);
    }
}
