using DistSac.Settings;
using Microsoft.Extensions.Options;
using DistSac.Observability;
using System.ComponentModel.DataAnnotations;
using DistSac.Protocol;

namespace DistSac.Worker;

/// <summary>
/// Configuration section "Worker" (flags such as --envs, or DISTSAC_WORKER__ENVS). Everything about the run itself
/// (environment, seed, warm-up) comes from the gateway's RunInfo, so workers of one run cannot disagree on it.
/// </summary>
public sealed record WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Gateway address; http:// is HTTP/2 without TLS (h2c), https:// is TLS (see <see cref="GatewayClientTls"/>).</summary>
    [Required]
    public string Gateway { get; init; } = "http://127.0.0.1:50051";

    /// <summary>The gateway's shared bearer token (set it as DISTSAC_WORKER__TOKEN, never as a flag); empty sends none.</summary>
    public string Token { get; init; } = "";

    /// <summary>File holding the token (e.g. a mounted Kubernetes Secret); its first line is sent, re-read when it changes.</summary>
    public string TokenFile { get; init; } = "";

    /// <summary>PEM CA bundle the gateway's certificate must chain to (only it is trusted); empty uses the system store.</summary>
    public string TlsCaFile { get; init; } = "";

    /// <summary>PEM client certificate presented to a gateway with mutual TLS (with <see cref="TlsKeyFile"/>); re-read when it changes.</summary>
    public string TlsCertFile { get; init; } = "";

    /// <summary>PEM private key of <see cref="TlsCertFile"/>.</summary>
    public string TlsKeyFile { get; init; } = "";

    /// <summary>
    /// Unique per worker, 1..128 of ASCII letters, digits and - _ . / : (the gateway refuses others). The gateway
    /// de-duplicates pushes by (worker id, incarnation, sequence), and every start gets a new incarnation, so a worker
    /// restarted under the same id (a Deployment pod) never collides with what it stored before.
    /// </summary>
    [Required]
    public string WorkerId { get; init; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Environments stepped together; one actor forward serves all of them.</summary>
    [Range(1, 4096)]
    public int Envs { get; init; } = 8;

    /// <summary>A batch is pushed once it holds at least this many transitions (M).</summary>
    [Range(1, ProtocolLimits.MaxBatchTransitions)]
    public int BatchTransitions { get; init; } = 64;

    /// <summary>... or once its first transition is this old (T), whichever comes first.</summary>
    [Range(1, 600_000)]
    public int FlushIntervalMs { get; init; } = 50;

    /// <summary>Stop after this many environment steps (transitions); 0 runs until stopped.</summary>
    [Range(0, long.MaxValue)]
    public long MaxSteps { get; init; }

    /// <summary>
    /// Deadline of one Push call. The gateway holds acknowledgements back while workers run ahead of the learner,
    /// so this bounds how long one held-back call may take before it is retried (a retry is de-duplicated).
    /// </summary>
    [Range(1, 3_600_000)]
    public int PushTimeoutMs { get; init; } = 30_000;

    /// <summary>On stop, how long to keep trying to deliver the batches not yet acknowledged.</summary>
    [Range(0, 600_000)]
    public int ShutdownFlushTimeoutMs { get; init; } = 5_000;

    /// <summary>Simulated simulator time per environment per step, to emulate a costlier simulator in scaling benchmarks.</summary>
    [Range(0, 10_000_000)]
    public int SimulatedStepCostMicroseconds { get; init; }

    /// <summary>Spin (busy-wait on this worker's core) or Sleep (the simulator runs elsewhere and uses no CPU here).</summary>
    public SimulatedCostMode SimulatedStepCostMode { get; init; } = SimulatedCostMode.Spin;

    /// <summary>
    /// The stochastic actor's exploration noise: white or ou; empty takes the run environment's default
    /// (ou for MountainCarContinuous-v0, white otherwise; see ExplorationSettings.DefaultFor).
    /// </summary>
    public string ExplorationNoise { get; init; } = "";

    /// <summary>Correlation time of ou noise in env steps; 0 takes the default (15).</summary>
    [Range(0.0, 1e6)]
    public double NoiseCorrelationSteps { get; init; }

    [Range(0.1, 3600.0)]
    public double ProgressIntervalSeconds { get; init; } = 5.0;

    /// <summary>
    /// HTTP address of the probe endpoint (/healthz, /readyz, /metrics), e.g. "http://0.0.0.0:9092"; empty turns it off.
    /// </summary>
    public string HttpListen { get; init; } = "";

    /// <summary>Throws <see cref="ValidationException"/> naming the first bad key, its value and the accepted values.</summary>
    public void Validate() => SettingsValidation.ThrowIfInvalid(this, Section, Rules.Instance);

    private sealed class Rules : IValidateOptions<WorkerOptions>
    {
        public static readonly Rules Instance = new();

        public ValidateOptionsResult Validate(string? name, WorkerOptions options)
        {
            var failures = new SettingsValidation.Failures(name!);
            if (!string.IsNullOrEmpty(options.HttpListen))
                failures.Check(() => ProbeListener.Prefix(options.HttpListen), nameof(HttpListen), options.HttpListen);
            if (!string.IsNullOrEmpty(options.ExplorationNoise))
                failures.Check(() => DistSac.Policy.ExplorationNoiseKind.Validate(options.ExplorationNoise, "Worker:ExplorationNoise"), nameof(ExplorationNoise), options.ExplorationNoise);
            bool gatewayOk = Uri.TryCreate(options.Gateway, UriKind.Absolute, out var uri)
                             && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == "dns");
            failures.Require(gatewayOk, nameof(Gateway), options.Gateway,
                "not an http://, https:// or dns:/// address (e.g. http://127.0.0.1:50051, or dns:///gateway-headless:50051 for client-side round-robin)");
            failures.Require(!string.IsNullOrWhiteSpace(options.WorkerId), nameof(WorkerId), options.WorkerId, "must not be blank");
            return failures.Result;
        }
    }
}
