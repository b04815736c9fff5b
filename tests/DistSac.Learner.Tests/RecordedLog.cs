using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace DistSac.Learner.Tests;

/// <summary>A logger that keeps every entry (level, message, exception) in order, for tests that check what was reported and when.</summary>
internal sealed class RecordedLog : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, formatter(state, exception), exception));
}
