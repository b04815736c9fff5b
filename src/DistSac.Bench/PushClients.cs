using System.Diagnostics;
using DistSac.Protocol.V1;
using DistSac.Worker;
using Google.Protobuf;
using Grpc.Core;

namespace DistSac.Bench;

/// <summary>
/// The load of the gateway benchmarks (`ingest`, `gateway-idle`): N gRPC clients, each a worker id with one push at a
/// time of one shared payload, either as fast as acknowledgements come back or paced to a start interval per client.
/// Counts acknowledged transitions, pushes and the time pushes took; <see cref="StopAsync"/> ends the loops.
/// </summary>
public sealed class PushClients : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource? _abandon;
    private readonly Task[] _loops;
    private long _acked, _pushes, _ackTicks;

    /// <param name="address">The gateway.</param>
    /// <param name="idPrefix">Worker ids are "{idPrefix}-{random tag}-{i}".</param>
    /// <param name="records">The payload of every push (the clients spend their CPU on gRPC, not on making up records).</param>
    /// <param name="clients">N.</param>
    /// <param name="interval">Null: the next push as soon as the last was acknowledged. Otherwise pushes start no faster than this per client; a held push simply waits.</param>
    /// <param name="abandonOnStop">
    /// True: stopping cancels pushes in flight (held pushes never return). False: only <paramref name="ct"/> cancels a
    /// push, so ending the timed window does not abandon a push the gateway may have stored.
    /// </param>
    /// <param name="ct">Ctrl-C.</param>
    public PushClients(Uri address, string idPrefix, ByteString records, int clients, TimeSpan? interval, bool abandonOnStop, CancellationToken ct)
    {
        string tag = Guid.NewGuid().ToString("N")[..8];
        _abandon = abandonOnStop ? CancellationTokenSource.CreateLinkedTokenSource(ct, _stop.Token) : null;
        var pushToken = _abandon?.Token ?? ct;
        _loops = new Task[clients];
        for (int i = 0; i < clients; i++)
        {
            string workerId = $"{idPrefix}-{tag}-{i}";
            _loops[i] = Task.Run(() => PushLoopAsync(address, workerId, records, interval, _stop.Token, pushToken), ct);
        }
        All = Task.WhenAll(_loops);
    }

    /// <summary>Completes when every client loop ended (after <see cref="StopAsync"/>, or early with a client's error).</summary>
    public Task All { get; }

    public long Acked => Interlocked.Read(ref _acked);

    public long Pushes => Interlocked.Read(ref _pushes);

    /// <summary>Stopwatch ticks summed over every acknowledged push (from its start to its acknowledgement).</summary>
    public long AckTicks => Interlocked.Read(ref _ackTicks);

    /// <summary>Waits <paramref name="span"/>, failing at once if the clients end early (a client's error surfaces here).</summary>
    public async Task WhileRunningAsync(TimeSpan span, CancellationToken ct)
    {
        var delay = Task.Delay(span, ct);
        if (await Task.WhenAny(All, delay) == All)
        {
            await All;
            throw new InvalidOperationException("push clients stopped before the measurement ended.");
        }
        await delay;
    }

    /// <summary>Ends every loop; with <paramref name="observeErrors"/> a client's error is thrown, otherwise swallowed.</summary>
    public async Task StopAsync(bool observeErrors)
    {
        await _stop.CancelAsync();
        if (observeErrors) await All;
        else foreach (var loop in _loops) await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(observeErrors: false);
        _abandon?.Dispose();
        _stop.Dispose();
    }

    private async Task PushLoopAsync(Uri address, string workerId, ByteString records, TimeSpan? interval, CancellationToken stop, CancellationToken ct)
    {
        using var channel = GatewayChannel.Create(address.ToString());
        var client = new ReplayGateway.ReplayGatewayClient(channel);
        RunInfo info;
        for (var tries = 0; ; tries++)
        {
            try
            {
                info = await client.GetRunInfoAsync(new GetRunInfoRequest { WorkerId = workerId }, cancellationToken: ct);
                break;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && tries < 100)
            {
                await Task.Delay(200, ct); // a gateway process still starting
            }
        }
        int count = records.Length / info.RecordBytes;
        long next = Stopwatch.GetTimestamp();
        for (long sequence = 0; !stop.IsCancellationRequested; sequence++)
        {
            if (interval is { } every)
            {
                long now = Stopwatch.GetTimestamp();
                if (next > now) await Task.Delay(Stopwatch.GetElapsedTime(now, next), ct);
                else next = now; // after a hold: go on at the offered rate, do not catch up in a burst
                next += (long)(every.TotalSeconds * Stopwatch.Frequency);
            }
            long started = Stopwatch.GetTimestamp();
            var ack = await client.PushAsync(
                new PushRequest { WorkerId = workerId, Incarnation = info.Incarnation, Sequence = sequence, TransitionCount = count, Records = records },
                cancellationToken: ct);
            Interlocked.Add(ref _ackTicks, Stopwatch.GetTimestamp() - started);
            Interlocked.Add(ref _acked, ack.Stored);
            Interlocked.Increment(ref _pushes);
        }
    }
}
