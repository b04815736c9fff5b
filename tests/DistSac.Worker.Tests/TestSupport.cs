using System.Collections.Concurrent;
using DistSac.Protocol;
using Microsoft.Extensions.Logging;

namespace DistSac.Worker.Tests;

/// <summary>One decoded record: the fields the tests check, read back with the protocol's layout.</summary>
internal readonly record struct Decoded(float[] Obs, float[] Action, float Reward, float[] NextObs, float Terminated, int Version)
{
    public static List<Decoded> All(IEnumerable<byte[]> batches, TransitionRecord layout)
    {
        var list = new List<Decoded>();
        foreach (var bytes in batches)
        {
            Assert.Equal(0, bytes.Length % layout.RecordBytes);
            for (int offset = 0; offset < bytes.Length; offset += layout.RecordBytes)
            {
                var record = bytes.AsSpan(offset, layout.RecordBytes);
                var f = layout.Floats(record);
                list.Add(new Decoded(
                    f[..layout.ObservationSize].ToArray(),
                    f.Slice(layout.ActionOffset, layout.ActionSize).ToArray(),
                    f[layout.RewardOffset],
                    f.Slice(layout.NextObservationOffset, layout.ObservationSize).ToArray(),
                    f[layout.TerminatedOffset],
                    layout.PolicyVersion(record)));
            }
        }

        return list;
    }
}

/// <summary>Keeps every log line so tests can check what the worker reported.</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Lines { get; } = new();

    public ILoggerFactory CreateFactory() => LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(this));

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Lines.Enqueue((logLevel, formatter(state, exception)));
    }
}
