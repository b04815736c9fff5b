using System.CommandLine;
using System.ComponentModel.DataAnnotations;
using System.Runtime.InteropServices;
using DistSac.Cli.Configuration;
using DistSac.Worker;
using Microsoft.Extensions.Logging;

namespace DistSac.Cli.Commands;

/// <summary>`distsac worker`: the rollout worker role (section "Worker", DISTSAC_WORKER__* variables, flags).</summary>
public static class WorkerCommand
{
    private static readonly Dictionary<string, string?> NoDefaults = [];

    public static Command Create()
    {
        var flags = new List<ConfigFlag>
        {
            new("--gateway", "Worker:Gateway", "Gateway address (default http://127.0.0.1:50051; http:// is h2c).", typeof(string)),
            new("--worker-id", "Worker:WorkerId", "Unique worker id; pushes are de-duplicated by it (default hostname-pid).", typeof(string)),
            new("--envs", "Worker:Envs", "Environments stepped together (default 8).", typeof(int)),
            new("--batch-transitions", "Worker:BatchTransitions", "Push once a batch holds this many transitions (M, default 64).", typeof(int)),
            new("--flush-interval-ms", "Worker:FlushIntervalMs", "... or once its first transition is this old (T, default 50).", typeof(int)),
            new("--max-steps", "Worker:MaxSteps", "Stop after this many env steps (0 = until stopped).", typeof(long)),
            new("--push-timeout-ms", "Worker:PushTimeoutMs", "Deadline of one Push call, after which it is retried (default 30000).", typeof(int)),
            new("--shutdown-flush-timeout-ms", "Worker:ShutdownFlushTimeoutMs", "On stop, how long to keep delivering unacknowledged batches (default 5000).", typeof(int)),
            new("--simulated-step-cost-us", "Worker:SimulatedStepCostMicroseconds", "Busy-wait per env step per env, for scaling benchmarks (default 0).", typeof(int)),
            new("--progress-interval-seconds", "Worker:ProgressIntervalSeconds", "Seconds between progress lines (default 5).", typeof(double)),
            new("--gc-heap-limit-mb", "Worker:GcHeapLimitMb", "GC heap hard limit in MiB, keeps a busy worker's RSS small (default 64; 0 = runtime default).", typeof(int)),
        };
        var configOption = new Option<string>("--config") { Description = "JSON configuration file (section Worker)." };
        var command = new Command("worker", "Run a rollout worker: step environments with the latest actor and push transitions to a gateway.");
        command.Options.Add(configOption);
        foreach (var f in flags) command.Options.Add(f.Option);

        // A synchronous action on purpose: System.CommandLine gives asynchronous actions only 2 s after SIGTERM or
        // Ctrl-C before it returns 143/130, shorter than the worker's shutdown flush; here the worker owns the signals.
        command.SetAction(parse =>
        {
            WorkerOptions options;
            try
            {
                var overrides = new Dictionary<string, string?>();
                ConfigFlag.Collect(parse, flags, overrides);
                var configuration = DistSacConfiguration.Build(parse.GetValue(configOption), NoDefaults, overrides);
                options = DistSacConfiguration.Bind<WorkerOptions>(configuration, WorkerOptions.Section);
                options.Validate();
            }
            catch (Exception e) when (e is ConfigurationException or ValidationException or FileNotFoundException)
            {
                // System.CommandLine's own handler would print a stack trace for what is a configuration mistake.
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }

            return Run(options);
        });
        return command;
    }

    private static int Run(WorkerOptions options)
    {
        using var loggerFactory = WorkerLogging.CreateConsole();
        var logger = loggerFactory.CreateLogger("DistSac.Worker");
        long heapLimit = GcHeapLimit.Apply(options.GcHeapLimitMb);
        logger.LogDebug("GC heap limit {HeapLimitMb:F0} MB", heapLimit / 1048576.0);
        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // keep the process alive until the last batch is delivered
            logger.LogInformation("{Signal} received: stopping after the last batch is delivered", context.Signal);
            stop.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            // The one blocking wait of the process, at its entry point (as an async Main's generated wrapper does).
            Task.Run(() => new RolloutWorker(options, loggerFactory).RunAsync(stop.Token)).GetAwaiter().GetResult();
            return 0;
        }
        catch (WorkerFatalException e)
        {
            logger.LogCritical("Worker failed: {Reason}", e.Message);
            return 1;
        }
    }
}
