using DistSac.Observability;
using Microsoft.Extensions.Logging;

namespace DistSac.Worker;

/// <summary>Console logging for the worker process: the format every role shares (<see cref="RoleLogging"/>).</summary>
public static class WorkerLogging
{
    public static ILoggerFactory CreateConsole(LogLevel minimumLevel = LogLevel.Information) =>
        RoleLogging.Create("worker", minimumLevel: minimumLevel);
}
