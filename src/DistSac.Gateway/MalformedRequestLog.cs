using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace DistSac.Gateway;

/// <summary>
/// Logs requests whose body was not a valid protobuf message: one warning line per client address per interval at
/// most, without a stack trace, saying how many more were not logged. A client sending garbage in a loop costs the
/// log one line per interval, not one per request.
/// </summary>
public sealed class MalformedRequestLog(ILogger<MalformedRequestLog> logger)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    // Bounds the memory a client cycling through addresses (IPv6) can make this hold; forgetting only logs sooner.
    private const int MaxClients = 10_000;
    private readonly ConcurrentDictionary<string, Client> _clients = new(StringComparer.Ordinal);
    private long _total;

    public TimeSpan Interval { get; init; } = DefaultInterval;

    /// <summary>Malformed requests seen since start, logged or not.</summary>
    public long Total => Interlocked.Read(ref _total);

    /// <summary>Counts a malformed request from <paramref name="client"/> and logs it unless this client was logged within the interval.</summary>
    public void Report(string client, string method, string error)
    {
        Interlocked.Increment(ref _total);
        if (_clients.Count >= MaxClients) _clients.Clear();
        var entry = _clients.GetOrAdd(client, static _ => new Client());
        long now = Stopwatch.GetTimestamp();
        long suppressed;
        lock (entry)
        {
            if (entry.LastLogged != 0 && Stopwatch.GetElapsedTime(entry.LastLogged, now) < Interval)
            {
                entry.Suppressed++;
                return;
            }
            suppressed = entry.Suppressed;
            entry.Suppressed = 0;
            entry.LastLogged = now;
        }
        logger.LogWarning(
            "Malformed {Method} from {Client} answered InvalidArgument: {Error} ({Suppressed} more from this client since its previous such line; at most one line per {Interval} s)",
            method, client, error, suppressed, Interval.TotalSeconds);
    }

    private sealed class Client
    {
        public long LastLogged;
        public long Suppressed;
    }
}
