namespace DistSac.Worker;

/// <summary>A worker flag and the configuration key it sets (flags override the JSON file and DISTSAC_WORKER__* variables).</summary>
/// <param name="ValueType">string, int, long or double: how the command line parses the value.</param>
public sealed record WorkerFlag(string Name, string Key, string Description, Type ValueType);

/// <summary>
/// The worker's flags, defined once for both front ends: `distsac worker` (System.CommandLine) and the Native AOT
/// `distsac-worker` (src/DistSac.Worker.Host), so the two cannot drift apart.
/// </summary>
public static class WorkerFlags
{
    public static IReadOnlyList<WorkerFlag> All { get; } =
    [
        new("--gateway", "Worker:Gateway", "Gateway address (default http://127.0.0.1:50051; http:// is h2c, https:// is TLS).", typeof(string)),
        new("--tls-ca-file", "Worker:TlsCaFile", "PEM CA the gateway's certificate must chain to (only it is trusted; default the system store). Also turns TLS on for dns:/// addresses.", typeof(string)),
        new("--tls-cert-file", "Worker:TlsCertFile", "PEM client certificate for a gateway with mutual TLS; re-read when it changes.", typeof(string)),
        new("--tls-key-file", "Worker:TlsKeyFile", "PEM private key of --tls-cert-file.", typeof(string)),
        new("--worker-id", "Worker:WorkerId", "Unique worker id: ASCII letters, digits and - _ . / : (default hostname-pid-random); a restart under the same id is safe (each start pushes under a new incarnation).", typeof(string)),
        new("--envs", "Worker:Envs", "Environments stepped together (default 8).", typeof(int)),
        new("--batch-transitions", "Worker:BatchTransitions", "Push once a batch holds this many transitions (M, default 64).", typeof(int)),
        new("--flush-interval-ms", "Worker:FlushIntervalMs", "... or once its first transition is this old (T, default 100).", typeof(int)),
        new("--max-steps", "Worker:MaxSteps", "Stop after this many env steps (0 = until stopped).", typeof(long)),
        new("--push-timeout-ms", "Worker:PushTimeoutMs", "Deadline of one Push call, after which it is retried (default 30000).", typeof(int)),
        new("--shutdown-flush-timeout-ms", "Worker:ShutdownFlushTimeoutMs", "On stop, how long to keep delivering unacknowledged batches (default 5000).", typeof(int)),
        new("--simulated-step-cost-us", "Worker:SimulatedStepCostMicroseconds", "Simulated simulator time per env step per env, for scaling benchmarks (default 0).", typeof(int)),
        new("--simulated-step-cost-mode", "Worker:SimulatedStepCostMode", "spin (busy-wait on this core) or sleep (simulator elsewhere; default spin).", typeof(string)),
        new("--progress-interval-seconds", "Worker:ProgressIntervalSeconds", "Seconds between progress lines (default 5).", typeof(double)),
        new("--http-listen", "Worker:HttpListen", "HTTP address for /healthz, /readyz and /metrics, e.g. http://127.0.0.1:9092, or http://0.0.0.0:9092 for a scraper on another machine (default off).", typeof(string)),
    ];
}
