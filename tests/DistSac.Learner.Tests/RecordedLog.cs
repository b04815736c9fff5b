using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace DistSac.Learner.Tests;

/// <summary>
/// A logger that keeps every entry (level, message, exception) in order, for tests that check what was reported and
/// when; with a capacity, only the last that many (a long-running learner's tail for a failure message).
/// </summary>
internal sealed class RecordedLog(int capacity = int.MaxValue, ILogger? forwardTo = null) : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = new();

    /// <summary>The kept entries, one line each, oldest first.</summary>
    public string Tail() => string.Join(Environment.NewLine, Entries.Select(e => $"  {e.Level}: {e.Message}" + (e.Exception is null ? "" : $" ({e.Exception.GetType().Name}: {e.Exception.Message})")));

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    /// <summary>Everything when unbounded; a bounded tail skips Debug and Trace (unless the forwarded logger wants them).</summary>
    public bool IsEnabled(LogLevel logLevel) => capacity == int.MaxValue || logLevel >= LogLevel.Information || forwardTo?.IsEnabled(logLevel) == true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        Entries.Enqueue((logLevel, formatter(state, exception), exception));
        while (Entries.Count > capacity) Entries.TryDequeue(out _);
        forwardTo?.Log(logLevel, eventId, state, exception, formatter);
    }
}
