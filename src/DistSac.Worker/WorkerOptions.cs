using DistSac.Settings;
using DistSac.Observability;
using System.ComponentModel.DataAnnotations;
using DistSac.Protocol;
using Microsoft.Extensions.Options;

namespace DistSac.Worker;

/// <summary>
/// Configuration section "Worker" (flags such as --envs, or DISTSAC_WORKER__ENVS). Everything about the run itself
/// (environment, seed, warm-up) comes from the gateway's RunInfo, so workers of one run cannot disagree on it.
/// Properties have setters, not init: the configuration binder's source generator (the Native AOT distsac-worker)
/// silently skips init-only properties.
/// </summary>
public sealed record WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Gateway address; http:// is HTTP/2 without TLS (h2c), https:// is TLS (see <see cref="GatewayClientTls"/>).</summary>
    [Required(ErrorMessage = "Worker:Gateway is required (e.g. http://127.0.0.1:50051).")]
    public string Gateway { get; set; } = "http://127.0.0.1:50051";

    /// <summary>The gateway's shared bearer token (set it as DISTSAC_WORKER__TOKEN, never as a flag); empty sends none.</summary>
    public string Token { get; set; } = "";

    /// <summary>File holding the token (e.g. a mounted Kubernetes Secret); its first line is sent, re-read when it changes.</summary>
    public string TokenFile { get; set; } = "";

    /// <summary>PEM CA bundle the gateway's certificate must chain to (only it is trusted); empty uses the system store.</summary>
    public string TlsCaFile { get; set; } = "";

    /// <summary>PEM client certificate presented to a gateway with mutual TLS (with <see cref="TlsKeyFile"/>); re-read when it changes.</summary>
    public string TlsCertFile { get; set; } = "";

    /// <summary>PEM private key of <see cref="TlsCertFile"/>.</summary>
    public string TlsKeyFile { get; set; } = "";

    /// <summary>
    /// Unique per worker, 1..128 of ASCII letters, digits and - _ . / : (the gateway refuses others). The gateway
    /// de-duplicates pushes by (worker id, incarnation, sequence), and every start gets a new incarnation, so a worker
    /// restarted under the same id (a Deployment pod) never collides with what it stored before.
    /// </summary>
    [Required(ErrorMessage = "Worker:WorkerId must not be empty.")]
    public string WorkerId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Environments stepped together; one actor forward serves all of them.</summary>
    [Range(1, 4096, ErrorMessage = "Worker:Envs must be between {1} and {2}.")]
    public int Envs { get; set; } = 8;

    /// <summary>A batch is pushed once it holds at least this many transitions (M).</summary>
    [Range(1, ProtocolLimits.MaxBatchTransitions, ErrorMessage = "Worker:BatchTransitions must be between {1} and {2}.")]
    public int BatchTransitions { get; set; } = 64;

    /// <summary>
    /// ... or once its first transition is this old (T), whichever comes first. Each push costs the worker ~250-300 us
    /// of CPU (gRPC's thread hops), so at one env stepping 500 times a second 100 ms (10 pushes/s) instead of 50 cut the
    /// worker's CPU per step by ~30%, with no change in the learner's insert waits or time to solve (docs/benchmarks.md).
    /// </summary>
    [Range(1, 600_000, ErrorMessage = "Worker:FlushIntervalMs must be between {1} and {2}.")]
    public int FlushIntervalMs { get; set; } = 100;

    /// <summary>Stop after this many environment steps (transitions); 0 runs until stopped.</summary>
    [Range(0, long.MaxValue, ErrorMessage = "Worker:MaxSteps must be >= 0 (0 = unlimited).")]
    public long MaxSteps { get; set; }

    /// <summary>
    /// Deadline of one Push call. The gateway holds acknowledgements back while workers run ahead of the learner,
    /// so this bounds how long one held-back call may take before it is retried (a retry is de-duplicated).
    /// </summary>
    [Range(1, 3_600_000, ErrorMessage = "Worker:PushTimeoutMs must be between {1} and {2}.")]
    public int PushTimeoutMs { get; set; } = 30_000;

    /// <summary>On stop, how long to keep trying to deliver the batches not yet acknowledged.</summary>
    [Range(0, 600_000, ErrorMessage = "Worker:ShutdownFlushTimeoutMs must be between {1} and {2}.")]
    public int ShutdownFlushTimeoutMs { get; set; } = 5_000;

    /// <summary>Simulated simulator time per environment per step, to emulate a costlier simulator in scaling benchmarks.</summary>
    [Range(0, 10_000_000, ErrorMessage = "Worker:SimulatedStepCostMicroseconds must be between {1} and {2}.")]
    public int SimulatedStepCostMicroseconds { get; set; }

    /// <summary>Spin (busy-wait on this worker's core) or Sleep (the simulator runs elsewhere and uses no CPU here).</summary>
    public SimulatedCostMode SimulatedStepCostMode { get; set; } = SimulatedCostMode.Spin;

    /// <summary>
    /// The stochastic actor's exploration noise: white or ou; empty takes the run environment's default
    /// (ou for MountainCarContinuous-v0, white otherwise; see ExplorationSettings.DefaultFor).
    /// </summary>
    public string ExplorationNoise { get; set; } = "";

    /// <summary>Correlation time of ou noise in env steps; 0 takes the default (15).</summary>
    [Range(0.0, 1e6, ErrorMessage = "Worker:NoiseCorrelationSteps must be between {1} and {2} (0 = default).")]
    public double NoiseCorrelationSteps { get; set; }

    [Range(0.1, 3600.0, ErrorMessage = "Worker:ProgressIntervalSeconds must be between {1} and {2}.")]
    public double ProgressIntervalSeconds { get; set; } = 5.0;

    /// <summary>
    /// HTTP address of the probe endpoint (/healthz, /readyz, /metrics), e.g. "http://0.0.0.0:9092"; empty turns it off.
    /// </summary>
    public string HttpListen { get; set; } = "";

    /// <summary>Throws <see cref="ValidationException"/> naming the bad key.</summary>
    /// <summary>Throws <see cref="ValidationException"/> naming the first bad key, its value and the accepted values.</summary>
    public void Validate()
    {
        // The attributes above, checked by source-generated code (WorkerOptionsValidator) rather than by reflection:
        // the Native AOT worker has no reflection-based DataAnnotations (so SettingsValidation.ThrowIfInvalid is not used here).
        ValidateOptionsResult attributes = new WorkerOptionsValidator().Validate(Section, this);
        if (attributes.Failed) throw new ValidationException(AttributeFailure(attributes.Failures!.First()));
        if (Rules.Instance.Validate(Section, this) is { Failed: true } rules) throw new ValidationException(rules.Failures!.First());
    }

    /// <summary>
    /// The generated validator's "Envs: The field Worker.Envs must be between 1 and 4096." in the shared form,
    /// "Worker:Envs = 0 is invalid: must be between 1 and 4096 (...)". Values by name, not by reflection (AOT).
    /// </summary>
    private string AttributeFailure(string failure)
    {
        int colon = failure.IndexOf(':', StringComparison.Ordinal);
        string key = colon > 0 ? failure[..colon] : "?";
        int must = failure.IndexOf(" must ", StringComparison.Ordinal);
        string reason = must >= 0 ? failure[(must + 1)..] : failure;
        object? value = key switch
        {
            nameof(Gateway) => Gateway,
            nameof(WorkerId) => WorkerId,
            nameof(Envs) => Envs,
            nameof(BatchTransitions) => BatchTransitions,
            nameof(FlushIntervalMs) => FlushIntervalMs,
            nameof(MaxSteps) => MaxSteps,
            nameof(PushTimeoutMs) => PushTimeoutMs,
            nameof(ShutdownFlushTimeoutMs) => ShutdownFlushTimeoutMs,
            nameof(SimulatedStepCostMicroseconds) => SimulatedStepCostMicroseconds,
            nameof(NoiseCorrelationSteps) => NoiseCorrelationSteps,
            nameof(ProgressIntervalSeconds) => ProgressIntervalSeconds,
            _ => null,
        };
        return SettingsValidation.Invalid(Section, key, value, reason);
    }

    /// <summary>The checks attributes cannot say, in the shared form (SettingsValidation.Failures).</summary>
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

/// <summary>Checks <see cref="WorkerOptions"/>' DataAnnotations attributes with generated code (AOT-safe).</summary>
[OptionsValidator]
internal sealed partial class WorkerOptionsValidator : IValidateOptions<WorkerOptions>
{
}
