using DistSac.Protocol;
using DistSac.Replay;
using DistSac.Settings;
using Microsoft.Extensions.Options;

namespace DistSac.Gateway;

/// <summary>Settings of one gateway process (configuration section "Gateway"); the shards come from section "Replay".</summary>
public sealed record GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>
    /// Where Kestrel listens, HTTP/2 cleartext ("https://..." serves TLS, see <see cref="TlsCertFile"/>): "http://127.0.0.1:50051" (the default: this machine only),
    /// "http://127.0.0.1:0" (any free port), "http://0.0.0.0:50051" (every interface: say so explicitly, and set a token).
    /// </summary>
    public string Listen { get; init; } = "http://127.0.0.1:50051";

    /// <summary>
    /// HTTP/1.1 address of the probe endpoint (/healthz, /readyz, /metrics), a second Kestrel endpoint beside the gRPC one,
    /// e.g. "http://0.0.0.0:9090"; empty turns it off. Kubernetes probes and Prometheus scrape this port.
    /// </summary>
    public string HttpListen { get; init; } = "";

    /// <summary>
    /// Shared bearer token workers must send (set it as DISTSAC_GATEWAY__TOKEN, never as a flag); see <see cref="GatewayAuthentication"/>.
    /// Required whenever <see cref="Listen"/> is not loopback, unless <see cref="AllowUnauthenticated"/>.
    /// </summary>
    public string Token { get; init; } = "";

    /// <summary>File holding the token (e.g. a mounted Kubernetes Secret); one token per line, re-read when it changes.</summary>
    public string TokenFile { get; init; } = "";

    /// <summary>
    /// PEM certificate (leaf first, then intermediates; e.g. a kubernetes.io/tls Secret's tls.crt) served on an https://
    /// <see cref="Listen"/>; re-read when it changes, so cert-manager can rotate it under a running gateway. See <see cref="GatewayTls"/>.
    /// </summary>
    public string TlsCertFile { get; init; } = "";

    /// <summary>PEM private key of <see cref="TlsCertFile"/> (tls.key).</summary>
    public string TlsKeyFile { get; init; } = "";

    /// <summary>PEM CA bundle; when set, every client must present a certificate issued by it (mutual TLS).</summary>
    public string TlsClientCaFile { get; init; } = "";

    /// <summary>Serve a non-loopback <see cref="Listen"/> with no token: anyone who reaches the port can push and read weights.</summary>
    public bool AllowUnauthenticated { get; init; }

    // The rate limiter's ratio, tolerance and threshold are not gateway settings: the learner owns them and writes them
    // into the run metadata, which the gateway reads (RateLimitContract). RetiredGatewaySettings refuses the old keys.

    /// <summary>
    /// Longest a push is held by the rate limiter before it is answered with ResourceExhausted (nothing stored; the worker
    /// retries the same sequence). 0 holds until allowed or until the call's deadline or cancellation.
    /// </summary>
    public int MaxHoldMs { get; init; }

    /// <summary>
    /// Held pushes wake when the learner publishes progress (pub/sub); this is the safety net for a lost message: a held
    /// push re-reads progress from Redis after this long without one.
    /// </summary>
    public int ProgressReconcileMs { get; init; } = 1000;

    /// <summary>How often the weights follower re-checks the published version in case a pub/sub message was lost.</summary>
    public int WeightsReconcileMs { get; init; } = 1000;

    /// <summary>
    /// Largest magnitude accepted for a record value the environment does not bound (an unbounded observation dimension,
    /// the reward of an environment without a reward range). Bounded values are checked against the environment's spaces.
    /// </summary>
    public double MaxAbsValue { get; init; } = RecordBounds.DefaultMaxAbsValue;

    /// <summary>
    /// Which threads read the gateway's Redis replies. ThreadPool (the default): the .NET thread pool, one thread wake-up
    /// less per command than StackExchange.Redis's dedicated reader threads (Dedicated); safe because the gateway never
    /// blocks a pool thread. Dedicated is the fallback should a pool starved by something else delay replies.
    /// </summary>
    public ShardReaderThreads RedisReplyThreads { get; init; } = ShardReaderThreads.ThreadPool;

    /// <summary>Interval of the counters log line; 0 turns it off.</summary>
    public int StatusLogIntervalMs { get; init; } = 10_000;

    /// <summary>
    /// Throws <see cref="System.ComponentModel.DataAnnotations.ValidationException"/> ("Gateway:Key = value is invalid: ...")
    /// for the first bad value; an unparsable listen address is an <see cref="ArgumentException"/> naming the key.
    /// </summary>
    public void Validate()
    {
        ListenAddress.Parse(Listen);
        if (!string.IsNullOrEmpty(HttpListen)) ListenAddress.Parse(HttpListen, $"{Section}:{nameof(HttpListen)}");
        SettingsValidation.ThrowIfInvalid(this, Section, Rules.Instance);
    }

    private sealed class Rules : IValidateOptions<GatewayOptions>
    {
        public static readonly Rules Instance = new();

        public ValidateOptionsResult Validate(string? name, GatewayOptions o)
        {
            var failures = new SettingsValidation.Failures(name!);
            failures.Require(o.MaxHoldMs >= 0, nameof(MaxHoldMs), o.MaxHoldMs, "must be >= 0 (0 holds until allowed or the call ends)");
            failures.Require(o.ProgressReconcileMs is >= 1 and <= 60_000, nameof(ProgressReconcileMs), o.ProgressReconcileMs, "must be in [1, 60000]");
            failures.Require(o.WeightsReconcileMs is >= 10 and <= 600_000, nameof(WeightsReconcileMs), o.WeightsReconcileMs, "must be in [10, 600000]");
            failures.Require(double.IsFinite(o.MaxAbsValue) && o.MaxAbsValue > 0 && o.MaxAbsValue <= float.MaxValue, nameof(MaxAbsValue), o.MaxAbsValue,
                "must be > 0 and at most float32 max (3.4e38)");
            failures.Require(Enum.IsDefined(o.RedisReplyThreads), nameof(RedisReplyThreads), o.RedisReplyThreads, "must be ThreadPool or Dedicated");
            failures.Require(o.StatusLogIntervalMs >= 0, nameof(StatusLogIntervalMs), o.StatusLogIntervalMs, "must be >= 0 (0 turns the log line off)");
            return failures.Result;
        }
    }
}
