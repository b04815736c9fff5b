using Microsoft.Extensions.Logging;

namespace DistSac.Worker;

/// <summary>
/// The worker process's body, shared by `distsac worker` and the Native AOT `distsac-worker`: console logging, the
/// rollout until stopped, and the exit code (0 done or stopped, 1 the gateway refused the worker).
/// </summary>
public static class WorkerProcess
{
    /// <param name="stoppingToken">Ctrl-C / SIGTERM: the worker delivers its last batch (bounded by
    /// Worker:ShutdownFlushTimeoutMs) and returns 0.</param>
    public static async Task<int> RunAsync(WorkerOptions options, CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var loggerFactory = WorkerLogging.CreateConsole();
        var logger = loggerFactory.CreateLogger("DistSac.Worker");
        using var onStop = stoppingToken.Register(() => logger.LogInformation("Stop requested: delivering the last batch, then exiting"));
        try
        {
            await new RolloutWorker(options, loggerFactory).RunAsync(stoppingToken);
            return 0;
        }
        catch (WorkerFatalException e)
        {
            logger.LogCritical("Worker failed: {Reason}", e.Message);
            return 1;
        }
    }
}
