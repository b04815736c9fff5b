using System.CommandLine;
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
            new("--gateway", "Worker:Gateway", "Gateway address (default http://127.0.0.1:50051; http:// is h2c, https:// is TLS).", typeof(string)),
            new("--tls-ca-file", "Worker:TlsCaFile", "PEM CA the gateway's certificate must chain to (only it is trusted; default the system store). Also turns TLS on for dns:/// addresses.", typeof(string)),
            new("--tls-cert-file", "Worker:TlsCertFile", "PEM client certificate for a gateway with mutual TLS; re-read when it changes.", typeof(string)),
            new("--tls-key-file", "Worker:TlsKeyFile", "PEM private key of --tls-cert-file.", typeof(string)),
            new("--worker-id", "Worker:WorkerId", "Unique worker id: ASCII letters, digits and - _ . / : (default hostname-pid-random); a restart under the same id is safe (each start pushes under a new incarnation).", typeof(string)),
            new("--envs", "Worker:Envs", "Environments stepped together (default 8).", typeof(int)),
            new("--batch-transitions", "Worker:BatchTransitions", "Push once a batch holds this many transitions (M, default 64).", typeof(int)),
            new("--flush-interval-ms", "Worker:FlushIntervalMs", "... or once its first transition is this old (T, default 50).", typeof(int)),
            new("--max-steps", "Worker:MaxSteps", "Stop after this many env steps (0 = until stopped).", typeof(long)),
            new("--push-timeout-ms", "Worker:PushTimeoutMs", "Deadline of one Push call, after which it is retried (default 30000).", typeof(int)),
            new("--shutdown-flush-timeout-ms", "Worker:ShutdownFlushTimeoutMs", "On stop, how long to keep delivering unacknowledged batches (default 5000).", typeof(int)),
            new("--simulated-step-cost-us", "Worker:SimulatedStepCostMicroseconds", "Simulated simulator time per env step per env, for scaling benchmarks (default 0).", typeof(int)),
            new("--simulated-step-cost-mode", "Worker:SimulatedStepCostMode", "spin (busy-wait on this core) or sleep (simulator elsewhere; default spin).", typeof(string)),
            new("--progress-interval-seconds", "Worker:ProgressIntervalSeconds", "Seconds between progress lines (default 5).", typeof(double)),
            new("--http-listen", "Worker:HttpListen", "HTTP address for /healthz, /readyz and /metrics, e.g. http://127.0.0.1:9092, or http://0.0.0.0:9092 for a scraper on another machine (default off).", typeof(string)),
        };
        var configOption = new Option<string>("--config") { Description = "JSON configuration file (section Worker)." };
        var command = new Command("worker", "Run a rollout worker: step environments with the latest actor and push transitions to a gateway.");
        command.Options.Add(configOption);
        foreach (var f in flags) command.Options.Add(f.Option);

        // Program.cs turns Ctrl-C / SIGTERM into this token with no forced-exit timeout, so the worker can deliver its
        // last batch (bounded by Worker:ShutdownFlushTimeoutMs) and exit 0. Configuration errors surface as
        // ValidationException / ConfigurationException, which Program.cs reports as "error: ..." with exit code 2.
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>();
            ConfigFlag.Collect(parse, flags, overrides);
            var configuration = DistSacConfiguration.Build(parse.GetValue(configOption), NoDefaults, overrides);
            var options = DistSacConfiguration.Bind<WorkerOptions>(configuration, WorkerOptions.Section);
            // Validated once, by RolloutWorker's constructor, before anything starts.
            return await RunAsync(options, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(WorkerOptions options, CancellationToken stoppingToken)
    {
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
