using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace DistSac.Worker;

/// <summary>Console logging for the worker process: one line per message, UTC timestamps, so `local` can merge logs.</summary>
public static class WorkerLogging
{
    public static ILoggerFactory CreateConsole(LogLevel minimumLevel = LogLevel.Information) =>
        LoggerFactory.Create(builder => builder
            .SetMinimumLevel(minimumLevel)
            .AddSimpleConsole(options =>
            {
                options.SingleLine = true;
                options.UseUtcTimestamp = true;
                options.TimestampFormat = "HH:mm:ss.fff ";
                options.ColorBehavior = LoggerColorBehavior.Disabled;
            }));
}
